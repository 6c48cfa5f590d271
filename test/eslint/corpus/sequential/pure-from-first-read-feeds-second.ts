// expect: none
// A pure .map over the first read computes the ids the second read needs: the second depends on the first.
interface Db {
  user: { findMany(args: { where: { teamId: string } }): Promise<{ id: string }[]> }
  post: { findMany(args: { where: { authorId: { in: string[] } } }): Promise<{ title: string }[]> }
}

export async function teamPosts(db: Db, teamId: string) {
  const users = await db.user.findMany({ where: { teamId } })
  const ids = users.map((u) => u.id)
  const posts = await db.post.findMany({ where: { authorId: { in: ids } } })
  return { users, posts }
}
