// expect: none
// findFirstOrThrow({ id, teamId }) is a team-membership check on the document: the comments of that
// document are read only once it passes.
interface Prisma {
  document: { findFirstOrThrow(args: { where: { id: string; teamId: string } }): Promise<{ title: string }> }
  comment: { findMany(args: { where: { documentId: string } }): Promise<{ body: string }[]> }
}

export async function documentThread(prisma: Prisma, id: string, teamId: string) {
  const document = await prisma.document.findFirstOrThrow({ where: { id, teamId } })
  const comments = await prisma.comment.findMany({ where: { documentId: id } })
  return { title: document.title, comments }
}
