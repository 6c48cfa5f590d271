// expect: 1 report, suggestion only
// A Map.get, .toLowerCase() and a template string between two reads; the second read uses the locale,
// which comes from the arguments.
const LOCALES = new Map([
  ['en', 'en-US'],
  ['de', 'de-DE'],
])
interface Db { product: { findUnique(args: { where: { slug: string } }): Promise<{ name: string } | null> } }
interface Cms { getEntry(args: { slug: string; locale: string }): Promise<{ body: string } | null> }

export async function productPage(db: Db, cms: Cms, slug: string, lang: string) {
  const product = await db.product.findUnique({ where: { slug } })
  const locale = LOCALES.get(lang.toLowerCase()) ?? 'en-US'
  const canonical = `/products/${slug}?lang=${locale}`
  const copy = await cms.getEntry({ slug, locale })
  return { product, copy, canonical }
}
