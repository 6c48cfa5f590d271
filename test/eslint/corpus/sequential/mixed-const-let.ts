// expect: suggestion only
// A const and a let: one declaration cannot keep both.
interface Api {
  getDraft(id: string): Promise<string>
  getComments(id: string): Promise<string[]>
}

export async function editor(api: Api, id: string) {
  const draft = await api.getDraft(id)
  let comments = await api.getComments(id)
  comments = comments.filter((c) => c.length > 0)
  return { draft, comments }
}
