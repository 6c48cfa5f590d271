// expect: none
// Awaits in a loop belong to no-await-in-loop-independent.
interface Api {
  getUser(id: string): Promise<string>
  getAvatar(id: string): Promise<string>
}

export async function cards(api: Api, ids: string[]) {
  const out: string[] = []
  for (const id of ids) {
    const user = await api.getUser(id)
    const avatar = await api.getAvatar(id)
    out.push(user + avatar)
  }
  return out
}
