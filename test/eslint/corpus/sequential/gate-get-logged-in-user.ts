// expect: none
// getLoggedInUser() gates the read after it, even when its result is not used.
interface Deps {
  getLoggedInUser(): Promise<{ id: string } | null>
  reports: { listReports(range: string): Promise<{ name: string }[]> }
}

export async function reportsPage({ getLoggedInUser, reports }: Deps, range: string) {
  const viewer = await getLoggedInUser()
  const list = await reports.listReports(range)
  return { list, signedIn: viewer !== null }
}
