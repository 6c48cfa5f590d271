// expect: none
// A shared cache is written between the awaits.
interface Api {
  getRates(): Promise<number[]>
  getPrices(): Promise<number[]>
}

export async function refreshTicker(api: Api, cache: { rates: number[] }) {
  const rates = await api.getRates()
  cache.rates = rates
  const prices = await api.getPrices()
  return prices
}
