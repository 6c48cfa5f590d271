// expect: none
// The first read carries a handler that writes (it records the view): moving the read moves the
// write, so it keeps its place.
interface Doc { id: string }
interface Db { doc: { findUnique(q: { where: { id: string } }): Promise<Doc> } }
interface Audit { recordView(doc: Doc): Promise<Doc> }
interface Api { getComments(id: string): Promise<string[]> }

export async function viewDoc(db: Db, audit: Audit, api: Api, id: string) {
  const doc = await db.doc.findUnique({ where: { id } }).then((d) => audit.recordView(d))
  const comments = await api.getComments(id)
  return { doc, comments }
}
