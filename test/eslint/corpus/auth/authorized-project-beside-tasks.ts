// expect: 1 report
// expect: suggestion
// getAuthorizedProject() decides whether the caller may see the project, but the project's tasks
// are read beside it.
declare function getAuthorizedProject(projectId: string, userId: string): Promise<{ name: string }>
declare function listTasks(projectId: string): Promise<{ title: string; done: boolean }[]>

export async function projectTasks(projectId: string, userId: string) {
  const [project, tasks] = await Promise.all([
    getAuthorizedProject(projectId, userId),
    listTasks(projectId),
  ])
  return { project: project.name, open: tasks.filter((t) => !t.done) }
}
