// expect: fix
// Seed "Real-World Example": a product page needs details, reviews, recommendations and inventory.
interface Catalog {
  getProduct(id: string): Promise<{ title: string }>
  getReviews(id: string): Promise<string[]>
  getRecommendations(id: string): Promise<string[]>
  getInventoryStatus(id: string): Promise<'in-stock' | 'sold-out'>
}

export async function productPage(catalog: Catalog, productId: string) {
  const product = await catalog.getProduct(productId)
  const reviews = await catalog.getReviews(productId)
  const recommendations = await catalog.getRecommendations(productId)
  const inventory = await catalog.getInventoryStatus(productId)
  return { product, reviews, recommendations, inventory }
}
