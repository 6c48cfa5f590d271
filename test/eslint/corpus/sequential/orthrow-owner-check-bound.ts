// expect: none
// findUniqueOrThrow({ id: projectId, ownerId: userId }) bound to a variable still gates the reads
// scoped by the same project id.
interface Prisma {
  project: { findUniqueOrThrow(args: { where: { id: string; ownerId: string } }): Promise<{ name: string }> }
  deployment: { findMany(args: { where: { projectId: string }; take: number }): Promise<{ id: string }[]> }
}

export async function deploymentsRoute(prisma: Prisma, projectId: string, userId: string) {
  const project = await prisma.project.findUniqueOrThrow({ where: { id: projectId, ownerId: userId } })
  const deployments = await prisma.deployment.findMany({ where: { projectId }, take: 20 })
  return { project, deployments }
}
