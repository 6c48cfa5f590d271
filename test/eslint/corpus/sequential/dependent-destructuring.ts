// expect: none
// The org lookup needs the orgId destructured from the user.
interface Api {
  getUser(id: string): Promise<{ orgId: string }>
  getOrg(id: string): Promise<{ name: string }>
}

export async function orgOfUser(api: Api, userId: string) {
  const { orgId } = await api.getUser(userId)
  const org = await api.getOrg(orgId)
  return org
}
