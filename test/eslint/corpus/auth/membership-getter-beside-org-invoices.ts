// expect: 1 report
// expect: suggestion
// getMembership() beside a read of the org's invoices (private, scoped by orgId).
declare function getMembership(orgId: string, userId: string): Promise<{ role: string } | null>
declare function getOrgInvoices(orgId: string): Promise<{ id: string; amount: number }[]>

export async function invoicesTab(orgId: string, userId: string) {
  const [membership, invoices] = await Promise.all([
    getMembership(orgId, userId),
    getOrgInvoices(orgId),
  ])
  return { role: membership?.role ?? 'guest', invoices }
}
