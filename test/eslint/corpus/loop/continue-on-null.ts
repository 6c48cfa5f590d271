// expect: 1 report
// continue only skips this item; no break: still independent.
declare function getProfile(id: string): Promise<{ name: string } | null>
declare function show(name: string): void

export async function profiles(ids: string[]) {
  for (const id of ids) {
    const p = await getProfile(id)
    if (!p) continue
    show(p.name)
  }
}
