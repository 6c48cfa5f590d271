// expect: none
// Calls with unknown effects keep their order.
interface Orders {
  processOrder(id: string): Promise<string>
  handleRefund(id: string): Promise<string>
}

export async function settle(orders: Orders, id: string) {
  const processed = await orders.processOrder(id)
  const refund = await orders.handleRefund(id)
  return { processed, refund }
}
