// expect: 1 report, suggestion only
// `orgId ? await read() : null` next to an independent read: the element keeps its condition
// (`orgId ? db.org.findUnique(...) : null`), so the org is still read only when there is an id.
interface Db {
  org: { findUnique(args: { where: { id: string } }): Promise<{ name: string } | null> }
  plan: { findMany(args: { where: { public: boolean } }): Promise<{ id: string; price: number }[]> }
}

export async function pricingPage(db: Db, orgId: string | null) {
  const org = orgId ? await db.org.findUnique({ where: { id: orgId } }) : null
  const plans = await db.plan.findMany({ where: { public: true } })
  return { org, plans }
}
