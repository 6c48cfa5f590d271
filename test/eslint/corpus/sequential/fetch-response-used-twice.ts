// expect: none
// The first response is used again after its body was read (its headers): the chain cannot hide
// it, and the second fetch needs the first body's cursor.
interface Res { headers: { get(name: string): string | null }; json(): Promise<{ next: string }> }
type Fetch = (url: string) => Promise<Res>

export async function pages(fetch: Fetch, api: string) {
  const first = await fetch(`${api}/items`)
  const body = await first.json()
  const second = await fetch(`${api}/items?cursor=${body.next}`)
  return { body, etag: first.headers.get('etag'), second }
}
