// expect: none
// Seed 000 "Parallel Headers + Body": request context in parallel, then auth.
declare const whopSdk: { verifyUserToken(h: Headers): Promise<{ userId: string }> }
declare function headers(): Promise<Headers>

export async function POST(request: Request) {
  const [headersList, body] = await Promise.all([headers(), request.json()])
  const { userId } = await whopSdk.verifyUserToken(headersList)
  return { userId, body }
}
