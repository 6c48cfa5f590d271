// expect: none
// The second nested await reads what the first returned: a real dependency, not a waterfall.
interface Api {
  getUser(id: string): Promise<{ teamId: string }>
  getTeam(id: string): Promise<{ name: string }>
}

export async function teamOf(api: Api, id: string) {
  const user = await api.getUser(id)
  return { team: await api.getTeam(user.teamId) }
}
