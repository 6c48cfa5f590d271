// expect: 2 reports
// expect: suggestion
// requireAuthenticatedUser() and assertIsAdmin() started beside the data they guard.
declare function requireAuthenticatedUser(request: Request): Promise<{ id: string }>
declare function assertIsAdmin(userId: string): Promise<void>
declare function getApiKeys(userId: string): Promise<{ prefix: string }[]>
declare function listAllUsers(page: number): Promise<{ email: string }[]>

export async function apiKeys(request: Request) {
  const [user, keys] = await Promise.all([
    requireAuthenticatedUser(request),
    getApiKeys(new URL(request.url).searchParams.get('user') ?? ''),
  ])
  return { user: user.id, keys }
}

export async function adminUsers(userId: string, page: number) {
  const [, users] = await Promise.all([assertIsAdmin(userId), listAllUsers(page)])
  return users
}
