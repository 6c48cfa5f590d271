// expect: none
// The seed's example with the access check awaited before the data calls.
declare const whopSdk: {
  verifyUserToken(h: Headers): Promise<{ userId: string }>
  access: { checkIfUserHasAccessToExperience(a: { userId: string; experienceId: string }): Promise<{ hasAccess: boolean }> }
}
declare function headers(): Promise<Headers>
declare function fetchUserProfile(userId: string): Promise<unknown>
declare function fetchCompanyInfo(companyId: string): Promise<unknown>
declare const experienceId: string
declare const companyId: string

export async function GET() {
  const headersList = await headers()
  const { userId } = await whopSdk.verifyUserToken(headersList)
  const accessCheck = await whopSdk.access.checkIfUserHasAccessToExperience({ userId, experienceId })
  if (!accessCheck.hasAccess) return new Response('Forbidden', { status: 403 })
  const [userData, companyData] = await Promise.all([fetchUserProfile(userId), fetchCompanyInfo(companyId)])
  return Response.json({ userData, companyData })
}
