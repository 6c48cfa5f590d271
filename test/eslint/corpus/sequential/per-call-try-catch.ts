// expect: none
// The body read has its own fallback; this rule leaves it alone.
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
