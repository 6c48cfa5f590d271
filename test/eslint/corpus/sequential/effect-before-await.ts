// expect: none
// `audit.mark()` runs before the second read starts, and after the first: grouping the two reads
// would start the second before the mark.
interface Api {
  getInvoice(id: string): Promise<{ total: number }>
  getLines(id: string): Promise<string[]>
}
interface Audit { mark(event: string): string }
type Pair = (mark: string, lines: string[]) => { mark: string; lines: string[] }

export async function invoice(api: Api, audit: Audit, pair: Pair, id: string) {
  const head = await api.getInvoice(id)
  const body = pair(audit.mark('lines'), await api.getLines(id))
  return { head, body }
}
