// expect: none
// An alias of the first result feeds the second call.
interface Api {
  getAccount(id: string): Promise<{ id: string; plan: string }>
  getInvoices(accountId: string): Promise<string[]>
}

export async function invoicesFor(api: Api, id: string) {
  const account = await api.getAccount(id)
  const current = account
  const invoices = await api.getInvoices(current.id)
  return invoices
}
