// expect: none
// Already parallel.
interface Api {
  getUser(id: string): Promise<string>
  getPosts(id: string): Promise<string[]>
}

export async function page(api: Api, id: string) {
  const [user, posts] = await Promise.all([api.getUser(id), api.getPosts(id)])
  return { user, posts }
}
