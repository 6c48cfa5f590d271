// expect: none
// getAuthenticatedUser() is awaited and checked first; only then do the user's reads start.
interface AppUser {
  id: string
  email: string
}
declare function getAuthenticatedUser(request: Request): Promise<AppUser | null>
declare function getNotifications(userId: string): Promise<{ id: string; read: boolean }[]>
declare function getSavedSearches(userId: string): Promise<{ query: string }[]>

export async function GET(request: Request) {
  const user = await getAuthenticatedUser(request)
  if (!user) return Response.json({ error: 'Unauthorized' }, { status: 401 })
  const [notifications, searches] = await Promise.all([
    getNotifications(user.id),
    getSavedSearches(user.id),
  ])
  return Response.json({ unread: notifications.filter((n) => !n.read).length, searches })
}
