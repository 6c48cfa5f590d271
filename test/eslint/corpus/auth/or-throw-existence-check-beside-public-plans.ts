// expect: none
// A discarded existence check (404 for an unknown workspace slug) beside the public plan list:
// the plans are not scoped by the slug and nothing is written, so nothing needs the check first.
interface Plan {
  id: string
  name: string
  priceCents: number
}
declare const prisma: {
  workspace: { findUniqueOrThrow(q: { where: { slug: string } }): Promise<{ id: string }> }
  plan: { findMany(q: { where: { active: boolean }; orderBy: { priceCents: 'asc' } }): Promise<Plan[]> }
}

export async function upgradePage(slug: string) {
  const [, plans] = await Promise.all([
    prisma.workspace.findUniqueOrThrow({ where: { slug } }),
    prisma.plan.findMany({ where: { active: true }, orderBy: { priceCents: 'asc' } }),
  ])
  return { slug, plans }
}
