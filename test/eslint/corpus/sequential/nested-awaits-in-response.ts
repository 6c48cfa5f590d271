// expect: 1 report, suggestion only
// Two reads awaited inside one response object: the second starts only when the first is done.
interface Api {
  getUser(id: string): Promise<{ name: string }>
  getOrders(id: string): Promise<{ total: number }[]>
}
interface Http { json(body: unknown, init?: { status: number }): unknown }

export async function GET(api: Api, http: Http, id: string) {
  return http.json({ user: await api.getUser(id), orders: await api.getOrders(id) })
}
