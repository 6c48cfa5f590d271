// expect: none
// getAuthorizedProject(id) checks access to the project: the read after it waits for it.
interface Deps {
  getAuthorizedProject(id: string): Promise<{ id: string; name: string }>
  db: { environment: { findMany(args: { where: { projectId: string } }): Promise<{ key: string }[]> } }
}

export async function envVarsRoute({ getAuthorizedProject, db }: Deps, projectId: string) {
  const project = await getAuthorizedProject(projectId)
  const variables = await db.environment.findMany({ where: { projectId } })
  return { project, variables }
}
