// expect: fix
// got.get(url).json() and undici.request(url) without a method (a GET) are reads.
interface Got { get(url: string, options?: { searchParams: { q: string } }): { json<T>(): Promise<T> } }
interface Undici {
  request(url: string, options?: { headers: { [k: string]: string } }): Promise<{ statusCode: number }>
}

export async function searchProxy(got: Got, undici: Undici, q: string, token: string) {
  const hits = await got.get('https://search.internal/api', { searchParams: { q } }).json<string[]>()
  const quota = await undici.request('https://quota.internal/v1/me', { headers: { authorization: `Bearer ${token}` } })
  return { hits, status: quota.statusCode }
}
