// expect: 1 report
// fetch then .json() per item; the results go into a Map keyed by item.
export async function prices(symbols: string[]) {
  const bySymbol = new Map<string, unknown>()
  for (const symbol of symbols) {
    const res = await fetch(`https://example.test/price/${symbol}`)
    bySymbol.set(symbol, await res.json())
  }
  return bySymbol
}
