// expect: 1 report, suggestion only
// The first response's status is checked before its body is read: the check is a guard, so the
// first fetch stays where it is; its body and the second chain can still start together.
interface Res { ok: boolean; json(): Promise<unknown> }
type Fetch = (url: string) => Promise<Res>

export async function profile(fetch: Fetch, api: string, id: string) {
  const res = await fetch(`${api}/users/${id}`)
  if (!res.ok) throw new Error(`user ${id}: not found`)
  const user = await res.json()
  const prefsRes = await fetch(`${api}/prefs/${id}`)
  const prefs = await prefsRes.json()
  return { user, prefs }
}
