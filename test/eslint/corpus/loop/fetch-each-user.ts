// expect: 1 report
// expect: suggestion
// Independent reads over a collection of unknown size: suggest mapLimit.
declare function fetchUser(id: string): Promise<{ name: string }>
declare function render(user: { name: string }): void

export async function show(ids: string[]) {
  for (const id of ids) {
    const user = await fetchUser(id)
    render(user)
  }
}
