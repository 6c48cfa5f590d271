// expect: none
// auth() as an attribute beside an unscoped listing (no ids, no private name, no guard).
declare function auth(): Promise<{ user?: { id: string } } | null>
declare function getLatestArticles(limit: number): Promise<unknown[]>

export default async function Page() {
  const [session, articles] = await Promise.all([auth(), getLatestArticles(10)])
  return { signedIn: Boolean(session?.user), articles }
}
