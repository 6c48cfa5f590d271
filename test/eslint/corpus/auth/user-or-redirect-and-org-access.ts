// expect: 2 reports
// expect: suggestion
// getUserOrRedirect() and requireOrgAccess() started beside the private reads they guard.
declare function getUserOrRedirect(): Promise<{ id: string }>
declare function requireOrgAccess(orgId: string, userId: string): Promise<void>
declare function getSubscription(customerId: string): Promise<{ plan: string }>
declare function getOrgAuditLog(orgId: string): Promise<{ at: string; action: string }[]>

export default async function BillingPage({ customerId }: { customerId: string }) {
  const [user, subscription] = await Promise.all([getUserOrRedirect(), getSubscription(customerId)])
  return { user: user.id, plan: subscription.plan }
}

export async function auditLog(orgId: string, userId: string) {
  const [, entries] = await Promise.all([requireOrgAccess(orgId, userId), getOrgAuditLog(orgId)])
  return entries
}
