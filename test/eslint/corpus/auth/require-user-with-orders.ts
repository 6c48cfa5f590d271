// expect: 1 report
// expect: suggestion
// A strict gate beside private data: the suggestion awaits requireUser() first.
declare function requireUser(req: Request): Promise<{ id: string }>
declare function getOrders(accountId: string): Promise<unknown[]>
declare function getInvoices(accountId: string): Promise<unknown[]>

export async function handler(req: Request, accountId: string) {
  const [user, orders, invoices] = await Promise.all([requireUser(req), getOrders(accountId), getInvoices(accountId)])
  return { user, orders, invoices }
}
