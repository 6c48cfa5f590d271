// expect: suggestion only
// A nested await: JSON.parse(await req.text()) runs before the next read could start.
interface Req { text(): Promise<string> }
interface Users { getUser(id: string): Promise<{ name: string }> }

export async function POST(req: Req, users: Users, id: string) {
  const body = JSON.parse(await req.text()) as { note: string }
  const user = await users.getUser(id)
  return { note: body.note, user }
}
