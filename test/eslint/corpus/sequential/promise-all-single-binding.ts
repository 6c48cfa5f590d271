// expect: none
// The Promise.all result is bound to one identifier: there is no array pattern to extend.
interface Api {
  getStats(range: string): Promise<number>
  getTopPages(range: string): Promise<string[]>
  getReferrers(range: string): Promise<string[]>
}

export async function analyticsRoute(api: Api, range: string) {
  const results = await Promise.all([api.getStats(range), api.getTopPages(range)])
  const referrers = await api.getReferrers(range)
  return { visits: results[0], pages: results[1], referrers }
}
