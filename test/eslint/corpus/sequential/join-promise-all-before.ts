// expect: fix
// An independent read before an existing Promise.all joins it as its first element.
interface Db {
  store: { findUnique(args: { where: { slug: string } }): Promise<{ name: string } | null> }
  product: { findMany(args: { where: { storeSlug: string } }): Promise<{ sku: string }[]> }
  banner: { findMany(args: { where: { active: boolean } }): Promise<{ image: string }[]> }
}

export async function storefront(db: Db, slug: string) {
  const store = await db.store.findUnique({ where: { slug } })
  const [products, banners] = await Promise.all([
    db.product.findMany({ where: { storeSlug: slug } }),
    db.banner.findMany({ where: { active: true } }),
  ])
  return { store, products, banners }
}
