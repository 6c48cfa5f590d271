// expect: none
// Start early, await late: both promises are already running.
interface Api {
  getUser(id: string): Promise<string>
  getPosts(id: string): Promise<string[]>
}

export async function page(api: Api, id: string) {
  const userPromise = api.getUser(id)
  const postsPromise = api.getPosts(id)
  const user = await userPromise
  const posts = await postsPromise
  return { user, posts }
}
