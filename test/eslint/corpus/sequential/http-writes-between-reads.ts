// expect: none
// axios.post, ky.post(...).json(), got.post(...).json() and undici request(url, { method: 'POST' }) are writes.
interface Axios { get<T>(url: string): Promise<{ data: T }>; post<T>(url: string, body: unknown): Promise<{ data: T }> }
interface Ky { post(url: string, options: { json: unknown }): { json<T>(): Promise<T> } }
interface Got { post(url: string, options: { json: unknown }): { json<T>(): Promise<T> } }
interface Undici { request(url: string, options: { method: 'POST'; body: string }): Promise<{ statusCode: number }> }

export async function POST(axios: Axios, ky: Ky, got: Got, { request }: Undici, orderId: string) {
  const { data: order } = await axios.get<{ total: number }>(`/api/orders/${orderId}`)
  const { data: charge } = await axios.post<{ id: string }>('/api/charges', { orderId })
  const { data: shipping } = await axios.get<{ eta: string }>(`/api/shipping/${orderId}`)
  const label = await ky.post('https://labels.example/v1', { json: { orderId } }).json<{ url: string }>()
  const invoice = await got.post('https://invoices.example/v1', { json: { orderId } }).json<{ pdf: string }>()
  const hook = await request('https://hooks.example/order-paid', { method: 'POST', body: orderId })
  return { order, charge, shipping, label, invoice, status: hook.statusCode }
}
