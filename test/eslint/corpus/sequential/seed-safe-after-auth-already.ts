// expect: none
// Seed "Safe Parallelization After Auth": headers feed the token check, the rest is already parallel.
interface Deps {
  headers(): Promise<Map<string, string>>
  whopSdk: {
    verifyUserToken(h: Map<string, string>): Promise<{ userId: string }>
    access: { checkIfUserHasAccessToExperience(a: { userId: string; experienceId: string }): Promise<{ hasAccess: boolean }> }
  }
  fetchUserProfile(id: string): Promise<unknown>
  fetchCompanyInfo(id: string): Promise<unknown>
}

export async function GET({ headers, whopSdk, fetchUserProfile, fetchCompanyInfo }: Deps, experienceId: string, companyId: string) {
  const headersList = await headers()
  const { userId } = await whopSdk.verifyUserToken(headersList)
  const [accessCheck, userData, companyData] = await Promise.all([
    whopSdk.access.checkIfUserHasAccessToExperience({ userId, experienceId }),
    fetchUserProfile(userId),
    fetchCompanyInfo(companyId),
  ])
  if (!accessCheck.hasAccess) return { error: 'Forbidden', status: 403 }
  return { userData, companyData }
}
