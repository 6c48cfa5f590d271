// expect: 1 report, suggestion only
// new URL(...) and Number(searchParams.get('page') ?? '1') sit between two reads; the second read uses
// the page, but it comes from the request, not the first read: it can be computed before both calls start.
interface Req { url: string; headers: { host?: string } }
interface Db {
  category: { findMany(): Promise<{ slug: string }[]> }
  product: { findMany(args: { skip: number; take: number; where: { category: string } }): Promise<{ name: string }[]> }
}

export async function listProducts(req: Req, db: Db) {
  const categories = await db.category.findMany()
  const url = new URL(req.url, `http://${req.headers.host ?? 'localhost'}`)
  const page = Number(url.searchParams.get('page') ?? '1')
  const category = url.searchParams.get('category') ?? 'all'
  const products = await db.product.findMany({ skip: (page - 1) * 24, take: 24, where: { category } })
  return { categories, products, page }
}
