// expect: none
// requireMembership(orgId) bound to a variable: a gate before the org's data.
interface Deps {
  requireMembership(orgId: string): Promise<{ role: 'owner' | 'member' }>
  api: { getUsage(orgId: string): Promise<{ seats: number; storage: number }> }
}

export async function usageRoute({ requireMembership, api }: Deps, orgId: string) {
  const membership = await requireMembership(orgId)
  const usage = await api.getUsage(orgId)
  return { role: membership.role, usage }
}
