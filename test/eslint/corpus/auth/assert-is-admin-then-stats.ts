// expect: none
// The admin check is awaited on its own line; the stats queries then run together.
declare function assertIsAdmin(userId: string): Promise<void>
declare function countSignups(sinceDays: number): Promise<number>
declare function countActiveSubscriptions(): Promise<number>

export async function adminOverview(userId: string) {
  await assertIsAdmin(userId)
  const [signups, subscriptions] = await Promise.all([countSignups(7), countActiveSubscriptions()])
  return { signups, subscriptions }
}
