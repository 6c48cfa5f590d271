// expect: 1 report, suggestion only
// `(await kv.get(key)) ?? DEFAULTS`: the await is on the left, so the read always runs; only the
// fallback is conditional, and it is a value, applied after the group settles.
interface Prefs { theme: 'light' | 'dark'; density: 'compact' | 'comfortable' }
const DEFAULT_PREFS: Prefs = { theme: 'light', density: 'comfortable' }
interface Kv { get<T>(key: string): Promise<T | null> }
interface Api { listNotifications(userId: string): Promise<{ text: string }[]> }

export async function settingsPanel(kv: Kv, api: Api, userId: string) {
  const prefs = (await kv.get<Prefs>(`prefs:${userId}`)) ?? DEFAULT_PREFS
  const notifications = await api.listNotifications(userId)
  return { prefs, notifications }
}
