// expect: suggestion only
// The validating parse comes last, so nothing is moved ahead of it; it still is a nested await.
interface Req { json(): Promise<unknown> }
interface Schema { parse(v: unknown): { name: string } }
interface Api { getQuota(id: string): Promise<number> }

export async function POST(req: Req, schema: Schema, api: Api, id: string) {
  const quota = await api.getQuota(id)
  const input = schema.parse(await req.json())
  return { quota, input }
}
