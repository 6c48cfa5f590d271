// expect: fix
// Prisma: reads of two models on one client, no write in between.
interface Db {
  user: { findUnique(args: { where: { id: string } }): Promise<{ name: string } | null> }
  post: { findMany(args: { where: { authorId: string } }): Promise<string[]> }
}

export async function authorPage(db: Db, authorId: string) {
  const author = await db.user.findUnique({ where: { id: authorId } })
  const posts = await db.post.findMany({ where: { authorId } })
  return { author, posts }
}
