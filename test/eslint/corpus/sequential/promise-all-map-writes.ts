// expect: none
// The mapped callback writes (one invite per address): it keeps its place before the read.
interface Api {
  sendInvite(email: string): Promise<{ id: string }>
  getTeam(teamId: string): Promise<{ name: string }>
}

export async function invite(api: Api, emails: string[], teamId: string) {
  const invites = await Promise.all(emails.map((email) => api.sendInvite(email)))
  const team = await api.getTeam(teamId)
  return { invites, team }
}
