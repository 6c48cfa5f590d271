// expect: none
// list.push(...) between two reads mutates a local array: kept in order.
interface Db {
  category: { findUnique(args: { where: { slug: string } }): Promise<{ name: string } | null> }
  product: { findMany(args: { where: { categorySlug: string } }): Promise<{ name: string }[]> }
}

export async function categoryPage(db: Db, slug: string) {
  const crumbs: string[] = ['Home']
  const category = await db.category.findUnique({ where: { slug } })
  crumbs.push(category?.name ?? slug)
  const products = await db.product.findMany({ where: { categorySlug: slug } })
  return { crumbs, products }
}
