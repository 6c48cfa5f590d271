// expect: suggestion only
// Each read has its own fallback: neither failure stops the other, so the two are a waterfall.
interface Profile { name: string }
interface Prefs { theme: 'light' | 'dark' }
interface Api {
  getProfile(userId: string): Promise<Profile>
  getPreferences(userId: string): Promise<Prefs>
}

export async function accountPage(api: Api, userId: string) {
  let profile: Profile | null
  try {
    profile = await api.getProfile(userId);
  } catch {
    profile = null;
  }
  let prefs: Prefs
  try {
    prefs = await api.getPreferences(userId);
  } catch (error) {
    prefs = { theme: 'light' };
  }
  return { profile, prefs }
}
