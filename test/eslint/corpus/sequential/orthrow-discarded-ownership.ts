// expect: none
// findFirstOrThrow({ id, ownerId }) with its result discarded is an ownership check: the scoped read
// after it must not start before it passes.
interface Prisma {
  project: { findFirstOrThrow(args: { where: { id: string; ownerId: string } }): Promise<unknown> }
  task: { findMany(args: { where: { projectId: string } }): Promise<{ title: string }[]> }
}

export async function projectTasks(prisma: Prisma, id: string, ownerId: string) {
  await prisma.project.findFirstOrThrow({ where: { id, ownerId } })
  const tasks = await prisma.task.findMany({ where: { projectId: id } })
  return tasks
}
