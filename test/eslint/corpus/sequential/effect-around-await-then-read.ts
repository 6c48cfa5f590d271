// expect: none
// The first read's value goes straight into a write (`cache.store(…)`): a later read must not start
// before that write, so the group ends there.
interface Api {
  loadProfile(id: string): Promise<{ name: string }>
  getProfileViews(id: string): Promise<number>
}
interface Cache { store(key: string, value: unknown): boolean }

export async function profile(api: Api, cache: Cache, id: string) {
  const stored = cache.store(`profile:${id}`, await api.loadProfile(id))
  const views = await api.getProfileViews(id)
  return { stored, views }
}
