// expect: none
// Early exit on the awaited value: later iterations must not start.
declare function findMirror(url: string): Promise<boolean>

export async function firstAlive(urls: string[]) {
  for (const url of urls) {
    if (await findMirror(url)) return url
  }
  return undefined
}
