// expect: 1 report, suggestion only
// Two fetches, each followed by reading its body: the second fetch waits for the first body. Each
// pair is a chain (`fetch(a).then((res) => res.json())`), and the two chains can run together.
interface Res { json(): Promise<unknown> }
type Fetch = (url: string) => Promise<Res>

export async function dashboard(fetch: Fetch, api: string, id: string) {
  const userRes = await fetch(`${api}/users/${id}`)
  const user = await userRes.json()
  const feedRes = await fetch(`${api}/feed?user=${id}`)
  const feed = await feedRes.json()
  return { user, feed }
}
