// expect: fix
// Seed api-parallel "Parallel Headers + Body": headers() and request.json() are independent (cheap, low priority);
// the token check needs the headers and stays after them.
interface Req { json(): Promise<{ amount: number }> }
interface Deps {
  headers(): Promise<Map<string, string>>
  whopSdk: { verifyUserToken(h: Map<string, string>): Promise<{ userId: string }> }
}

export async function POST(request: Req, { headers, whopSdk }: Deps) {
  const headersList = await headers();        // Wait...
  const body = await request.json();          // Wait...
  const { userId } = await whopSdk.verifyUserToken(headersList);
  return { userId, amount: body.amount };
}
