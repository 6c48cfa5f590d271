// expect: suggestion only
// An await nested in a template literal, then an independent read.
interface Cms {
  getPage(slug: string): Promise<{ title: string }>
  getFooter(): Promise<string>
}

export async function meta(cms: Cms, slug: string) {
  const title = `${(await cms.getPage(slug)).title} | Acme`
  const footer = await cms.getFooter()
  return { title, footer }
}
