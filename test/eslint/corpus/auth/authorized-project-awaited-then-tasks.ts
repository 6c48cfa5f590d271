// expect: none
// getAuthorizedProject() (loads the project only for someone allowed to see it) is awaited first;
// the tasks and members are fetched together afterwards.
interface Project {
  id: string
  name: string
}
declare function getAuthorizedProject(projectId: string, userId: string): Promise<Project>
declare function listTasks(projectId: string): Promise<{ id: string; title: string }[]>
declare function listProjectMembers(projectId: string): Promise<{ userId: string }[]>

export async function projectBoard(projectId: string, userId: string) {
  const project = await getAuthorizedProject(projectId, userId)
  const [tasks, members] = await Promise.all([listTasks(project.id), listProjectMembers(project.id)])
  return { project, tasks, members }
}
