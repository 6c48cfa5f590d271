// expect: none
// A rate limit check before the search.
interface Deps {
  limiter: { limit(ip: string): Promise<{ success: boolean }> }
  getSearchResults(q: string): Promise<string[]>
}

export async function search(deps: Deps, ip: string, q: string) {
  const allowed = await deps.limiter.limit(ip)
  const results = await deps.getSearchResults(q)
  return { allowed, results }
}
