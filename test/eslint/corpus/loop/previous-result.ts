// expect: none
// Each call reads the previous iteration's result.
declare function fetchStep(id: string, previous: unknown): Promise<unknown>

export async function chain(ids: string[]) {
  let previous: unknown = null
  for (const id of ids) {
    previous = await fetchStep(id, previous)
  }
  return previous
}
