// expect: 1 report, suggestion only
// A read awaited in the returned object, after an independent read above it.
interface Cms {
  getPage(slug: string): Promise<{ title: string }>
  getFooterLinks(locale: string): Promise<string[]>
}

export async function pageProps(cms: Cms, slug: string, locale: string) {
  const page = await cms.getPage(slug)
  return { title: page.title, footer: await cms.getFooterLinks(locale) }
}
