// expect: 1 report, suggestion only
// .reduce over the first read, Object.keys and JSON.stringify of an argument between two reads; the
// second read uses the JSON, which does not come from the first read.
interface Shop {
  listOrders(customerId: string): Promise<{ amount: number }[]>
  getRecommendations(customerId: string, filters: string): Promise<{ sku: string }[]>
}

export async function ordersSummary(shop: Shop, customerId: string, filters: { [key: string]: string }) {
  const orders = await shop.listOrders(customerId)
  const total = orders.reduce((sum, o) => sum + o.amount, 0)
  const applied = Object.keys(filters)
  const query = JSON.stringify(filters)
  const recommendations = await shop.getRecommendations(customerId, query)
  return { orders, total, applied, recommendations }
}
