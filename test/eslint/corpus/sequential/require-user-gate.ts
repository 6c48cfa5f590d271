// expect: none
// requireUser() throws for anonymous callers.
interface Deps {
  requireUser(): Promise<{ id: string }>
  listInvoices(): Promise<string[]>
}

export async function invoices(deps: Deps) {
  const me = await deps.requireUser()
  const all = await deps.listInvoices()
  return { me, all }
}
