// expect: none
// The second read needs the first one's result (or its fallback).
interface Api {
  getTeam(userId: string): Promise<{ teamId: string }>
  getTeamBoard(teamId: string): Promise<string[]>
}

export async function board(api: Api, userId: string) {
  let team: { teamId: string }
  try {
    team = await api.getTeam(userId)
  } catch {
    team = { teamId: 'default' }
  }
  let cards: string[]
  try {
    cards = await api.getTeamBoard(team.teamId)
  } catch {
    cards = []
  }
  return cards
}
