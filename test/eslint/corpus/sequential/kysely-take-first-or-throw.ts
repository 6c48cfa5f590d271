// expect: fix
// Kysely .executeTakeFirstOrThrow() loading the page's data, next to an independent read.
interface Select<T> {
  selectAll(): Select<T>
  where(column: string, op: '=', value: string): Select<T>
  orderBy(column: string, direction: 'asc' | 'desc'): Select<T>
  execute(): Promise<T[]>
  executeTakeFirstOrThrow(): Promise<T>
}
interface Db {
  selectFrom(table: 'article'): Select<{ id: string; title: string }>
  selectFrom(table: 'topic'): Select<{ id: string; label: string }>
}

export async function articleRoute(db: Db, slug: string) {
  const article = await db.selectFrom('article').selectAll().where('slug', '=', slug).executeTakeFirstOrThrow()
  const topics = await db.selectFrom('topic').selectAll().orderBy('label', 'asc').execute()
  return { article, topics }
}
