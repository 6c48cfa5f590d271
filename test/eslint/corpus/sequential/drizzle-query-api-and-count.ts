// expect: fix
// Drizzle: the relational query API (db.query.<table>.findFirst / findMany with `with`) and a
// select({ n: count() }).from(t).where(…) aggregate are three independent reads.
interface Column { readonly name: string }
interface Notifications { readonly userId: Column; readonly readAt: Column }
interface Db {
  query: {
    users: { findFirst(args: { where: unknown }): Promise<{ name: string } | undefined> }
    posts: { findMany(args: { with: { author: true }; limit: number }): Promise<{ title: string }[]> }
  }
  select(fields: { n: unknown }): {
    from(table: Notifications): { where(condition: unknown): PromiseLike<{ n: number }[]> }
  }
}
interface Ops { eq(column: Column, value: unknown): unknown; count(): unknown }

export async function dashboard(db: Db, notifications: Notifications, ops: Ops, userId: string) {
  const viewer = await db.query.users.findFirst({ where: ops.eq(notifications.userId, userId) })
  const feed = await db.query.posts.findMany({ with: { author: true }, limit: 20 })
  const [unread] = await db
    .select({ n: ops.count() })
    .from(notifications)
    .where(ops.eq(notifications.userId, userId))
  return { viewer, feed, unread }
}
