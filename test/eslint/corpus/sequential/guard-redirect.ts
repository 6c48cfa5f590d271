// expect: none
// A redirect guard on the session.
interface Deps {
  getServerSession(): Promise<{ userId: string } | null>
  getDashboard(): Promise<string[]>
  redirect(to: string): never
}

export async function Dashboard(deps: Deps) {
  const session = await deps.getServerSession()
  if (!session) deps.redirect('/login')
  const data = await deps.getDashboard()
  return data
}
