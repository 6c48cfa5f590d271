// expect: suggestion only
// Independent awaits separated by unrelated synchronous statements.
interface Api {
  getOrders(id: string): Promise<string[]>
  getAddresses(id: string): Promise<string[]>
}

export async function accountPage(api: Api, id: string) {
  const orders = await api.getOrders(id)
  const pageSize = 20
  console.log('orders loaded', orders.length)
  const addresses = await api.getAddresses(id)
  return { orders: orders.slice(0, pageSize), addresses }
}
