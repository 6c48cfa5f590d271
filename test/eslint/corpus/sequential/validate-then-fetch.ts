// expect: none
// Input validation gates the quote.
interface Api {
  validateAddress(a: string): Promise<{ zip: string }>
  getQuote(weight: number): Promise<number>
}

export async function quote(api: Api, address: string, weight: number) {
  const valid = await api.validateAddress(address)
  const price = await api.getQuote(weight)
  return { valid, price }
}
