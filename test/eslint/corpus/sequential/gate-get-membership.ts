// expect: none
// getMembership(orgId, userId) is an authorization lookup, not data: the project list waits for it.
interface Deps {
  getMembership(orgId: string, userId: string): Promise<{ role: string } | null>
  db: { project: { findMany(args: { where: { orgId: string } }): Promise<{ name: string }[]> } }
}

export async function orgProjects({ getMembership, db }: Deps, orgId: string, userId: string) {
  const membership = await getMembership(orgId, userId)
  const projects = await db.project.findMany({ where: { orgId } })
  return { membership, projects }
}
