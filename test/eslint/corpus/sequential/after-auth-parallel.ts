// expect: fix
// Seed "Safe Parallelization After Auth": the token check stays first, the reads after it run together.
interface Deps {
  whopSdk: { verifyUserToken(h: Map<string, string>): Promise<{ userId: string }> }
  fetchUserProfile(userId: string): Promise<{ name: string }>
  fetchCompanyInfo(companyId: string): Promise<{ plan: string }>
}

export async function GET(headersList: Map<string, string>, companyId: string, deps: Deps) {
  const { userId } = await deps.whopSdk.verifyUserToken(headersList)
  const userData = await deps.fetchUserProfile(userId)
  const companyData = await deps.fetchCompanyInfo(companyId)
  return { userData, companyData }
}
