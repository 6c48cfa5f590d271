// expect: none
// `includeArchived ? (await listArchived(id)).items : []`: the await is nested inside the branch, so
// the call cannot move; it is a barrier between the two reads around it.
interface Api {
  getProject(id: string): Promise<{ name: string }>
  listArchived(projectId: string): Promise<{ items: { id: string }[] }>
  listOpenTasks(projectId: string): Promise<{ id: string }[]>
}

export async function projectBoard(api: Api, projectId: string, includeArchived: boolean) {
  const project = await api.getProject(projectId)
  const archived = includeArchived ? (await api.listArchived(projectId)).items : []
  const open = await api.listOpenTasks(projectId)
  return { project, archived, open }
}
