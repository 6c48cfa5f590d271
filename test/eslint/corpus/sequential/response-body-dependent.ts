// expect: none
// res.json() needs the response.
type Fetch = (url: string) => Promise<{ json(): Promise<unknown> }>

export async function load(fetch: Fetch) {
  const res = await fetch('/api/config')
  const config = await res.json()
  return config
}
