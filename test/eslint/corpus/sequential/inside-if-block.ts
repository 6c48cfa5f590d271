// expect: fix
// A waterfall inside a branch is still a waterfall.
interface Api {
  getOrg(id: string): Promise<{ name: string }>
  listMembers(orgId: string): Promise<string[]>
}

export async function orgPanel(api: Api, orgId: string, expanded: boolean) {
  if (expanded) {
    const org = await api.getOrg(orgId)
    const members = await api.listMembers(orgId)
    return { org, members }
  }
  return null
}
