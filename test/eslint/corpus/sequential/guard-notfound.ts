// expect: none
// Next.js: notFound() throws before the second read.
interface Deps {
  getProduct(slug: string): Promise<{ id: string } | null>
  getRelated(slug: string): Promise<string[]>
  notFound(): never
}

export async function ProductPage({ getProduct, getRelated, notFound }: Deps, slug: string) {
  const product = await getProduct(slug)
  if (!product) notFound()
  const related = await getRelated(slug)
  return { product, related }
}
