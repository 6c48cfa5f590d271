// expect: fix
// Annotated bindings become a tuple annotation.
interface Invoice { id: string; amount: number }
interface Customer { id: string; email: string }
interface Billing {
  getCustomer(id: string): Promise<Customer>
  listInvoices(customerId: string): Promise<Invoice[]>
}

export async function billingPage(billing: Billing, customerId: string) {
  const customer: Customer = await billing.getCustomer(customerId)
  const invoices: readonly Invoice[] = await billing.listInvoices(customerId)
  return { email: customer.email, count: invoices.length }
}
