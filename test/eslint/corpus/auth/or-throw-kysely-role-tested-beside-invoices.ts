// expect: 1 report
// expect: suggestion
// Kysely: the membership row is only tested (role must be 'owner'); the org's invoices are read
// beside it, so a non-owner's request still reads them.
interface MemberRow {
  role: 'owner' | 'member'
}
interface InvoiceRow {
  id: string
  totalCents: number
}
interface Query<T> {
  where(column: string, op: '=', value: string): Query<T>
  selectAll(): Query<T>
  execute(): Promise<T[]>
  executeTakeFirstOrThrow(): Promise<T>
}
declare const db: {
  selectFrom(table: 'membership'): Query<MemberRow>
  selectFrom(table: 'invoice'): Query<InvoiceRow>
}

export async function billingHistory(orgId: string, userId: string) {
  const [membership, invoices] = await Promise.all([
    db
      .selectFrom('membership')
      .where('orgId', '=', orgId)
      .where('userId', '=', userId)
      .selectAll()
      .executeTakeFirstOrThrow(),
    db.selectFrom('invoice').where('orgId', '=', orgId).selectAll().execute(),
  ])
  if (membership.role !== 'owner') return new Response('Forbidden', { status: 403 })
  return Response.json(invoices)
}
