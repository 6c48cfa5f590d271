// expect: suggestion only
// The body read has its own fallback, so a bad body never keeps the defaults from loading: both can
// start together (low priority: one is a cheap request API). A suggestion, not a fix: a synchronous
// throw from the call would no longer reach the catch block.
interface Req { json(): Promise<{ q: string }> }
interface Api { getDefaults(): Promise<{ q: string }> }

export async function POST(req: Req, api: Api) {
  let body: { q: string }
  try {
    body = await req.json()
  } catch {
    body = { q: '' }
  }
  const defaults = await api.getDefaults()
  return { ...defaults, ...body }
}
