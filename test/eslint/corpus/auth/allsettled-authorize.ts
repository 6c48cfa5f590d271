// expect: 1 report
// allSettled does not help: the write starts even when authorization fails.
declare function authorizeAdmin(userId: string): Promise<void>
declare function deleteProject(projectId: string): Promise<void>

export async function remove(userId: string, projectId: string) {
  const [authz, deleted] = await Promise.allSettled([authorizeAdmin(userId), deleteProject(projectId)])
  if (authz.status === 'rejected') throw authz.reason
  return deleted
}
