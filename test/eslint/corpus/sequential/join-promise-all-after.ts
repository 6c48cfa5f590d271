// expect: fix
// An independent read after an existing Promise.all joins it:
// `const [user, team, plans] = await Promise.all([...])`.
interface Api {
  getUser(id: string): Promise<{ name: string }>
  getTeam(id: string): Promise<{ seats: number }>
}
interface Billing { listPlans(): Promise<{ id: string; price: number }[]> }

export async function billingPage(api: Api, billing: Billing, userId: string, teamId: string) {
  const [user, team] = await Promise.all([api.getUser(userId), api.getTeam(teamId)])
  const plans = await billing.listPlans()
  return { user, team, plans }
}
