// expect: 1 report
// Seed 000 "When NOT to parallelize": data fetched before the token is verified.
declare const whopSdk: { verifyUserToken(h: Headers): Promise<{ userId: string }> }
declare const supabase: { from(t: string): { select(c: string): Promise<unknown[]> } }
declare const headersList: Headers

export async function GET() {
  const [authResult, sensitiveData] = await Promise.all([
    whopSdk.verifyUserToken(headersList),
    supabase.from('secrets').select('*'), // Fetching before auth!
  ])
  return { authResult, sensitiveData }
}
