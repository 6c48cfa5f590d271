// expect: 1 report, suggestion only
// A helper of this module that only computes (the filter for the query) sits between two reads.
interface Db {
  product: { findMany(q: { where: Record<string, unknown> }): Promise<{ id: string }[]> }
  category: { findMany(): Promise<{ slug: string }[]> }
}

function productFilter(category: string, maxPrice: string) {
  const price = Number(maxPrice)
  return { category: category.toLowerCase(), price: { lte: Number.isFinite(price) ? price : 1000 } }
}

export async function catalog(db: Db, category: string, maxPrice: string) {
  const categories = await db.category.findMany()
  const where = productFilter(category, maxPrice)
  const products = await db.product.findMany({ where })
  return { categories, products }
}
