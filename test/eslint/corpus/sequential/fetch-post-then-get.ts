// expect: none
// A POST then a GET of the same resource.
type Fetch = (url: string, init?: { method: string; body?: string }) => Promise<{ status: number }>

export async function createThenRead(fetch: Fetch, body: string) {
  const created = await fetch('/api/items', { method: 'POST', body })
  const list = await fetch('/api/items')
  return { created, list }
}
