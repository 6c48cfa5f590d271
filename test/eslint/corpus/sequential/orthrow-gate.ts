// expect: none
// An ownership check by findUniqueOrThrow.
interface Db {
  project: { findUniqueOrThrow(args: { where: { id: string; tenantId: string } }): Promise<unknown> }
  file: { findMany(args: { where: { projectId: string } }): Promise<string[]> }
}

export async function projectFiles(db: Db, id: string, tenantId: string) {
  const owned = await db.project.findUniqueOrThrow({ where: { id, tenantId } })
  const files = await db.file.findMany({ where: { projectId: id } })
  return { owned, files }
}
