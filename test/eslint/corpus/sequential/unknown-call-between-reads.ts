// expect: none
// An unknown function (audit) called with the first read's result between two reads: a barrier.
interface Db {
  user: { findUnique(args: { where: { id: string } }): Promise<{ id: string; role: string } | null> }
  invoice: { findMany(args: { where: { accountId: string } }): Promise<{ total: number }[]> }
}
interface Deps { audit(user: { id: string; role: string } | null): void }

export async function invoicesRoute(db: Db, { audit }: Deps, userId: string, accountId: string) {
  const viewer = await db.user.findUnique({ where: { id: userId } })
  audit(viewer)
  const invoices = await db.invoice.findMany({ where: { accountId } })
  return { viewer, invoices }
}
