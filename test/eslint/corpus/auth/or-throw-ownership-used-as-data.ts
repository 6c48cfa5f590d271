// expect: none
// An ownership lookup whose result is the page's data, beside a read of the same document's
// comments. When the document is not the user's, the lookup throws and nothing is returned; the
// comments read is wasted but never shown. The OrThrow read is data here: no report.
interface Doc {
  id: string
  title: string
  body: string
}
interface Comment {
  id: string
  text: string
}
declare const prisma: {
  document: { findFirstOrThrow(q: { where: { id: string; ownerId: string } }): Promise<Doc> }
  comment: { findMany(q: { where: { documentId: string }; take: number }): Promise<Comment[]> }
}
declare function requireUser(): Promise<{ id: string }>

export async function loadEditor(docId: string) {
  const user = await requireUser()
  const [doc, comments] = await Promise.all([
    prisma.document.findFirstOrThrow({ where: { id: docId, ownerId: user.id } }),
    prisma.comment.findMany({ where: { documentId: docId }, take: 50 }),
  ])
  return { doc, comments }
}
