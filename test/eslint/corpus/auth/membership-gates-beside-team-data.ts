// expect: 3 reports
// expect: suggestion
// Enforcing membership checks (requireMembership, checkTeamMembership, assertMembership) started
// together with the team data they guard.
declare function requireMembership(teamId: string, userId: string): Promise<{ role: string }>
declare function checkTeamMembership(teamId: string, userId: string): Promise<boolean>
declare function assertMembership(workspaceId: string, userId: string): Promise<void>
declare function getTeamProjects(teamId: string): Promise<{ id: string }[]>
declare function getTeamPosts(teamId: string): Promise<{ title: string }[]>
declare function getWorkspaceFiles(workspaceId: string): Promise<{ name: string }[]>

export async function projects(teamId: string, userId: string) {
  const [membership, list] = await Promise.all([
    requireMembership(teamId, userId),
    getTeamProjects(teamId),
  ])
  return { role: membership.role, list }
}

export async function posts(teamId: string, userId: string) {
  const [isMember, list] = await Promise.all([
    checkTeamMembership(teamId, userId),
    getTeamPosts(teamId),
  ])
  if (!isMember) return { status: 403 as const }
  return { status: 200 as const, list }
}

export async function files(workspaceId: string, userId: string) {
  const [, list] = await Promise.all([
    assertMembership(workspaceId, userId),
    getWorkspaceFiles(workspaceId),
  ])
  return list
}
