// expect: 1 report, suggestion only
// `session && (await getProfile(session.userId))`: the profile is read only with a session; the
// suggestion keeps the `&&` on the element, next to an independent CMS read.
interface Session { userId: string }
interface Api { getProfile(userId: string): Promise<{ name: string; avatar: string }> }
interface Cms { getFeaturedPosts(limit: number): Promise<{ slug: string }[]> }

export async function homeData(api: Api, cms: Cms, session: Session | null) {
  const profile = session && (await api.getProfile(session.userId))
  const featured = await cms.getFeaturedPosts(6)
  return { profile, featured }
}
