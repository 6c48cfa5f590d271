// expect: fix
// Comments above and beside each await move with their call.
interface Cms {
  getPage(slug: string): Promise<{ title: string }>
  getNavigation(locale: string): Promise<string[]>
}

export async function renderPage(cms: Cms, slug: string, locale: string) {
  // the page body
  const page = await cms.getPage(slug) // slow: 120 ms
  /* the menu, cached upstream */
  const nav = await cms.getNavigation(locale)
  return { title: page.title, nav }
}
