// expect: none
// The read after the Promise.all uses one of its results: it cannot join it.
interface Api {
  getUser(id: string): Promise<{ name: string }>
  getTeam(id: string): Promise<{ billingAccountId: string }>
}
interface Billing { getInvoices(accountId: string): Promise<{ total: number }[]> }

export async function teamBilling(api: Api, billing: Billing, userId: string, teamId: string) {
  const [user, team] = await Promise.all([api.getUser(userId), api.getTeam(teamId)])
  const invoices = await billing.getInvoices(team.billingAccountId)
  return { user, invoices }
}
