// expect: fix
// Reads whose handlers only read (the body of a response) or give a fallback.
interface Res { json(): Promise<{ items: string[] }> }
type Fetch = (url: string) => Promise<Res>
interface Api { getBanner(): Promise<string> }

export async function home(fetch: Fetch, api: Api, base: string) {
  const feed = await fetch(`${base}/feed`).then((res) => res.json())
  const banner = await api.getBanner().catch(() => '')
  return { feed, banner }
}
