// expect: none
// Drizzle: insert(...).values(...).returning() then a select of the same table must see the new row.
interface Column { readonly name: string }
interface Posts { readonly authorId: Column }
interface Db {
  insert(table: Posts): { values(row: { authorId: string; title: string }): { returning(): Promise<{ id: string }[]> } }
  select(): { from(table: Posts): { where(condition: unknown): PromiseLike<{ id: string }[]> } }
}
interface Ops { eq(column: Column, value: unknown): unknown }

export async function createPost(db: Db, posts: Posts, { eq }: Ops, authorId: string, title: string) {
  const [created] = await db.insert(posts).values({ authorId, title }).returning()
  const mine = await db.select().from(posts).where(eq(posts.authorId, authorId))
  return { created, mine }
}
