// expect: none
// Seed 000 "Parallel Params + Headers".
declare const whopSdk: { verifyUserToken(h: Headers): Promise<{ userId: string }> }
declare function headers(): Promise<Headers>

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const [headersList, { id }] = await Promise.all([headers(), params])
  const { userId } = await whopSdk.verifyUserToken(headersList)
  return { id, userId }
}
