// expect: none
// A guard between the awaits: if the user is missing, the posts are never read.
interface Api {
  getUser(id: string): Promise<{ name: string } | null>
  getPosts(id: string): Promise<string[]>
}

export async function profile(api: Api, id: string) {
  const user = await api.getUser(id)
  if (!user) return null
  const posts = await api.getPosts(id)
  return { user, posts }
}
