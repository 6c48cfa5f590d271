// expect: fix
// Seed api-parallel "Parallel Params + Headers": awaiting params and headers() one after the other.
interface Deps {
  headers(): Promise<Map<string, string>>
  whopSdk: { verifyUserToken(h: Map<string, string>): Promise<{ userId: string }> }
}

export async function GET(
  deps: Deps,
  { params }: { params: Promise<{ id: string }> },
) {
  const { headers, whopSdk } = deps
  const headersList = await headers()
  const { id } = await params
  const { userId } = await whopSdk.verifyUserToken(headersList)
  return { id, userId }
}
