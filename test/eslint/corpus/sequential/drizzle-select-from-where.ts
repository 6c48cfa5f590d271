// expect: fix
// Drizzle: two select().from().where() chains on different tables are reads (root `db`, first call `select`).
interface Column { readonly name: string }
interface Users { readonly id: Column; readonly email: Column }
interface Posts { readonly authorId: Column; readonly title: Column }
interface Rows extends PromiseLike<{ [column: string]: unknown }[]> {
  where(condition: unknown): PromiseLike<{ [column: string]: unknown }[]>
}
interface Db { select(): { from(table: Users | Posts): Rows } }
interface Ops { eq(column: Column, value: unknown): unknown }

export async function GET(db: Db, { users, posts }: { users: Users; posts: Posts }, { eq }: Ops, userId: string) {
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  const authored = await db.select().from(posts).where(eq(posts.authorId, userId))
  return { user, authored }
}
