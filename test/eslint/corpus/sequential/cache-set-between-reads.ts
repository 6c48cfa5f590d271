// expect: none
// cache.set(...) between two reads mutates shared state: a barrier.
interface Catalog {
  getProduct(sku: string): Promise<{ name: string; price: number }>
  getReviews(sku: string): Promise<{ stars: number }[]>
}

export async function productRoute(catalog: Catalog, cache: Map<string, unknown>, sku: string) {
  const product = await catalog.getProduct(sku)
  cache.set(`product:${sku}`, product)
  const reviews = await catalog.getReviews(sku)
  return { product, reviews }
}
