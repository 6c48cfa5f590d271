// expect: 1 report
// Seed 000 "Safe parallelization after auth": the token is verified first, but the access check
// (an authorisation gate) starts together with user- and company-scoped fetches. Decision: report.
// When access is denied, both fetches have already run; the check must finish first.
declare const whopSdk: {
  verifyUserToken(h: Headers): Promise<{ userId: string }>
  access: { checkIfUserHasAccessToExperience(a: { userId: string; experienceId: string }): Promise<{ hasAccess: boolean }> }
}
declare function headers(): Promise<Headers>
declare function fetchUserProfile(userId: string): Promise<unknown>
declare function fetchCompanyInfo(companyId: string): Promise<unknown>
declare const experienceId: string
declare const companyId: string
declare const NextResponse: { json(body: unknown, init?: { status: number }): Response }

export async function GET() {
  const headersList = await headers()
  const { userId } = await whopSdk.verifyUserToken(headersList)
  const [accessCheck, userData, companyData] = await Promise.all([
    whopSdk.access.checkIfUserHasAccessToExperience({ userId, experienceId }),
    fetchUserProfile(userId),
    fetchCompanyInfo(companyId),
  ])
  if (!accessCheck.hasAccess) {
    return NextResponse.json({ error: 'Forbidden' }, { status: 403 })
  }
  return NextResponse.json({ userData, companyData })
}
