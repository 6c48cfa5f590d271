// expect: none
// The posts query reads user.profile.id.
interface Api {
  getUser(id: string): Promise<{ profile: { id: string } }>
  listPosts(profileId: string): Promise<string[]>
}

export async function postsOf(api: Api, userId: string) {
  const user = await api.getUser(userId)
  const posts = await api.listPosts(user.profile.id)
  return posts
}
