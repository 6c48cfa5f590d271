// expect: 2 reports, fix
// Two separate waterfalls split by a dependent read.
interface Api {
  getUser(id: string): Promise<{ teamId: string }>
  getFlags(): Promise<string[]>
  getTeam(id: string): Promise<{ name: string }>
  getTeamStats(id: string): Promise<number>
}

export async function teamPage(api: Api, userId: string) {
  const user = await api.getUser(userId)
  const flags = await api.getFlags()
  const team = await api.getTeam(user.teamId)
  const stats = await api.getTeamStats(user.teamId)
  return { flags, team, stats }
}
