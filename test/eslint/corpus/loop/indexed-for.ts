// expect: 1 report
// A counter loop storing into its own slot.
declare function fetchPage(url: string): Promise<string>

export async function pages(urls: string[]) {
  const bodies: string[] = new Array(urls.length)
  for (let i = 0; i < urls.length; i++) {
    bodies[i] = await fetchPage(urls[i] as string)
  }
  return bodies
}
