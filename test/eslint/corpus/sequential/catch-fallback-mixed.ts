// expect: suggestion only
// A plain read beside one with its own fallback.
interface Api {
  getOrders(userId: string): Promise<string[]>
  getCoupons(userId: string): Promise<string[]>
}

export async function ordersPanel(api: Api, userId: string) {
  const orders = await api.getOrders(userId)
  let coupons: string[]
  try {
    coupons = await api.getCoupons(userId)
  } catch {
    coupons = []
  }
  return { orders, coupons }
}
