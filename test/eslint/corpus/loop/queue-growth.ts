// expect: none
// The loop pushes into the collection it iterates (a crawl frontier).
declare function getLinks(url: string): Promise<string[]>

export async function crawl(start: string) {
  const queue = [start]
  for (const url of queue) {
    queue.push(...(await getLinks(url)))
  }
  return queue
}
