// expect: none
// A counter incremented between two reads: an assignment, never moved.
interface Api {
  getFeed(userId: string): Promise<{ id: string }[]>
  getSuggestions(userId: string): Promise<{ id: string }[]>
}

export async function feedRoute(api: Api, userId: string) {
  let queries = 0
  const feed = await api.getFeed(userId)
  queries++
  const suggestions = await api.getSuggestions(userId)
  return { feed, suggestions, queries }
}
