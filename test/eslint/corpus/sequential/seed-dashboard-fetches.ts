// expect: fix
// Seed "Handling parallel API calls": users, posts and comments fetched one by one.
type Fetch = (url: string) => Promise<{ ok: boolean }>

export async function loadDashboard(fetch: Fetch) {
  const users = await fetch('/api/users')
  const posts = await fetch('/api/posts')
  const comments = await fetch('/api/comments')
  return [users, posts, comments]
}
