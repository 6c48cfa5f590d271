// expect: fix
// Two known reads on `this` may run together.
interface Store {
  getProfile(id: string): Promise<{ name: string }>
  getPreferences(id: string): Promise<{ lang: string }>
}

class AccountService {
  constructor(private readonly store: Store) {}

  async summary(id: string) {
    const profile = await this.store.getProfile(id)
    const prefs = await this.store.getPreferences(id)
    return { name: profile.name, lang: prefs.lang }
  }
}

export async function accountSummary(store: Store, id: string) {
  return new AccountService(store).summary(id)
}
