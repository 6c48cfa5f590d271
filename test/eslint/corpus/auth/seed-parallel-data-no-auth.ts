// expect: none
// Seed 000 "Parallel Data Fetching": no auth call in the group.
declare function fetchUser(id: string): Promise<unknown>
declare function fetchSettings(id: string): Promise<unknown>
declare function fetchBalance(userId: string, companyId: string): Promise<unknown>

export async function load(userId: string, companyId: string) {
  const [user, settings, balance] = await Promise.all([fetchUser(userId), fetchSettings(companyId), fetchBalance(userId, companyId)])
  return { user, settings, balance }
}
