// expect: none
// No auth call: two gates of other kinds, or request context, do not trigger this rule.
declare function headers(): Promise<Headers>
declare function cookies(): Promise<Map<string, string>>

export async function POST(request: Request) {
  const [h, c, body] = await Promise.all([headers(), cookies(), request.json()])
  return { h, c, body }
}
