// expect: none
// Kysely: the invoice row (executeTakeFirstOrThrow) and its lines are fetched together after the
// user is required; the invoice is the response body, so the OrThrow read is data.
interface InvoiceRow {
  id: string
  number: string
  total: number
}
interface LineRow {
  description: string
  amount: number
}
interface Query<T> {
  where(column: string, op: '=', value: string): Query<T>
  selectAll(): Query<T>
  execute(): Promise<T[]>
  executeTakeFirstOrThrow(): Promise<T>
}
declare const db: {
  selectFrom(table: 'invoice'): Query<InvoiceRow>
  selectFrom(table: 'invoice_line'): Query<LineRow>
}
declare function requireUser(request: Request): Promise<{ id: string; accountId: string }>

export async function GET(request: Request, invoiceId: string) {
  const user = await requireUser(request)
  const [invoice, lines] = await Promise.all([
    db
      .selectFrom('invoice')
      .where('id', '=', invoiceId)
      .where('account_id', '=', user.accountId)
      .selectAll()
      .executeTakeFirstOrThrow(),
    db.selectFrom('invoice_line').where('invoice_id', '=', invoiceId).selectAll().execute(),
  ])
  return Response.json({ ...invoice, lines })
}
