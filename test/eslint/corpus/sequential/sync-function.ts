// expect: none
// A sync function, and an async one with a single await.
interface Api { getUser(id: string): Promise<string> }

export function ids(list: string[]) {
  return list.map((x) => x.trim())
}

export async function first(api: Api, list: string[]) {
  const u = await api.getUser(list[0] ?? '')
  return u
}
