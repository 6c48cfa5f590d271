// expect: none
// Supabase: .from('t').insert(...).select().single() is a write whatever follows the insert.
interface Result<T> { data: T | null; error: { message: string } | null }
interface Table<T> {
  insert(row: { post_id: string; body: string }): { select(): { single(): PromiseLike<Result<T>> } }
  select(columns: string): PromiseLike<Result<T[]>>
}
interface Supabase { from(table: string): Table<{ id: string }> }

export async function POST(supabase: Supabase, postId: string, body: string) {
  const { data: comment } = await supabase.from('comments').insert({ post_id: postId, body }).select().single()
  const { data: emojis } = await supabase.from('emojis').select('code')
  return { comment, emojis }
}
