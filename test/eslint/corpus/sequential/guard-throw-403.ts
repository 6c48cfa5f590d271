// expect: none
// A 403 thrown between the reads.
interface Api {
  getMembership(org: string, user: string): Promise<{ role: string }>
  getBilling(org: string): Promise<{ plan: string }>
}

export async function billing(api: Api, org: string, user: string) {
  const membership = await api.getMembership(org, user)
  if (membership.role !== 'admin') throw new Error('403')
  const details = await api.getBilling(org)
  return details
}
