// expect: fix
// Object destructuring on both sides is kept inside the array pattern.
interface Shop {
  listItems(cartId: string): Promise<{ items: string[]; currency: string }>
  getShippingQuote(zip: string): Promise<{ total: number }>
}

export async function checkoutSummary(shop: Shop, cartId: string, zip: string) {
  const { items, currency } = await shop.listItems(cartId)
  const { total } = await shop.getShippingQuote(zip)
  return { items, currency, total }
}
