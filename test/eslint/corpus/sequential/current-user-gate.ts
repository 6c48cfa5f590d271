// expect: none
// getCurrentUser() gates the data read.
interface Deps {
  getCurrentUser(): Promise<{ id: string }>
  getReports(): Promise<string[]>
}

export async function reports(deps: Deps) {
  const user = await deps.getCurrentUser()
  const rows = await deps.getReports()
  return { user, rows }
}
