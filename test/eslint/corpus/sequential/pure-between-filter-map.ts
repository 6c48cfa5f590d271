// expect: 1 report, suggestion only
// .filter and .map over the first read's rows sit between two reads; the second read does not use them.
interface Member { name: string; active: boolean }
interface Api {
  listMembers(teamId: string): Promise<Member[]>
  listMilestones(teamId: string): Promise<{ title: string; due: string }[]>
}

export async function teamBoard(api: Api, teamId: string) {
  const members = await api.listMembers(teamId)
  const active = members.filter((m) => m.active)
  const names = active.map((m) => m.name)
  const milestones = await api.listMilestones(teamId)
  return { names, milestones }
}
