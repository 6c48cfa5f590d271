// expect: fix
// Seed api-parallel "Parallel Data Fetching": three independent reads, three round trips.
interface Api {
  fetchUser(id: string): Promise<{ name: string }>
  fetchSettings(companyId: string): Promise<{ theme: string }>
  fetchBalance(id: string, companyId: string): Promise<number>
}

export async function loadAccount(api: Api, userId: string, companyId: string) {
  const user = await api.fetchUser(userId);
  const settings = await api.fetchSettings(companyId);
  const balance = await api.fetchBalance(userId, companyId);
  // 3 round trips!
  return { user, settings, balance };
}
