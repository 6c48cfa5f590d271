// expect: fix
// One read per person, already started together, then an unrelated read that waits for all of them.
interface Api {
  getUser(id: string): Promise<{ name: string }>
  getTeamSettings(teamId: string): Promise<{ locale: string }>
}

export async function pair(api: Api, ownerId: string, adminId: string, teamId: string) {
  const users = await Promise.all([ownerId, adminId].map((id) => api.getUser(id)))
  const settings = await api.getTeamSettings(teamId)
  return { users, settings }
}
