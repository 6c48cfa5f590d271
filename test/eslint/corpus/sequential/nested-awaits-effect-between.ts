// expect: none
// A call that is not pure runs between the two nested awaits (it records the view): moving the
// second read before it would change what happens first.
interface Api {
  getUser(id: string): Promise<{ name: string }>
  getFeed(id: string): Promise<string[]>
}
interface Analytics { track(event: string): number }

export async function feed(api: Api, analytics: Analytics, id: string) {
  return { user: await api.getUser(id), seen: analytics.track('feed'), items: await api.getFeed(id) }
}
