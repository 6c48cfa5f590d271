// expect: none
// Seed "When NOT to Parallelize": the token check guards the secrets read.
interface Deps {
  whopSdk: { verifyUserToken(h: Map<string, string>): Promise<{ userId: string }> }
  supabase: { from(t: string): { select(c: string): Promise<{ data: unknown[] }> } }
}

export async function GET(headersList: Map<string, string>, { whopSdk, supabase }: Deps) {
  const authResult = await whopSdk.verifyUserToken(headersList)
  const sensitiveData = await supabase.from('secrets').select('*')
  return { authResult, sensitiveData }
}
