// expect: none
// An analytics call between two reads: it has effects, and the second read must not start before it.
interface Cms {
  getArticle(slug: string): Promise<{ title: string } | null>
  getRelated(slug: string): Promise<{ slug: string }[]>
}
interface Analytics { track(event: string, props: { slug: string }): void }

export async function articleRoute(cms: Cms, { track }: Analytics, slug: string) {
  const article = await cms.getArticle(slug)
  track('article_view', { slug })
  const related = await cms.getRelated(slug)
  return { article, related }
}
