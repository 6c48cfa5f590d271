// expect: none
// requireMembership() throws for outsiders and is awaited before the team's data starts.
declare function requireMembership(teamId: string, userId: string): Promise<{ role: string }>
declare function getTeamProjects(teamId: string): Promise<{ id: string; name: string }[]>
declare function getTeamActivity(teamId: string, limit: number): Promise<{ at: string; what: string }[]>

export async function teamDashboard(teamId: string, userId: string) {
  const membership = await requireMembership(teamId, userId)
  const [projects, activity] = await Promise.all([
    getTeamProjects(teamId),
    getTeamActivity(teamId, 25),
  ])
  return { role: membership.role, projects, activity }
}
