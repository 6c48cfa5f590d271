// expect: fix
// `let` stays `let` (the values are reassigned below).
interface Feeds {
  fetchPinned(userId: string): Promise<string[]>
  fetchTimeline(userId: string): Promise<string[]>
}

export async function feed(feeds: Feeds, userId: string) {
  let pinned = await feeds.fetchPinned(userId)
  let timeline = await feeds.fetchTimeline(userId)
  if (pinned.length > 3) pinned = pinned.slice(0, 3)
  timeline = timeline.filter((id) => !pinned.includes(id))
  return { pinned, timeline }
}
