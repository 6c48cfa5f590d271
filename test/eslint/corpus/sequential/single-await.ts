// expect: none
// One await: nothing to group.
interface Api { getUser(id: string): Promise<string> }

export async function user(api: Api, id: string) {
  const u = await api.getUser(id)
  return u.toUpperCase()
}
