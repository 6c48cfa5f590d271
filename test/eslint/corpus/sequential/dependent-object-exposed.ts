// expect: none
// The cart handed to the first read may be filled in by it; the second reads cart.items.
interface Cart { items: string[] }
interface Api {
  loadItems(cart: Cart): Promise<number>
  getTotal(items: string[]): Promise<number>
}

export async function total(api: Api, cart: Cart) {
  const loaded = await api.loadItems(cart)
  const sum = await api.getTotal(cart.items)
  return { loaded, sum }
}
