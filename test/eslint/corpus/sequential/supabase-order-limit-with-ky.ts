// expect: fix
// Supabase .select().order().limit() and a ky.get(url).json() call to another service: two reads.
interface Result<T> { data: T[] | null; error: { message: string } | null }
interface Query<T> {
  order(column: string, options: { ascending: boolean }): Query<T>
  limit(n: number): PromiseLike<Result<T>>
}
interface Supabase { from(table: string): { select(columns: string): Query<{ id: string; title: string }> } }
interface Ky { get(url: string): { json<T>(): Promise<T> } }

export async function GET(supabase: Supabase, ky: Ky, weatherUrl: string) {
  const { data: posts } = await supabase
    .from('posts')
    .select('id, title')
    .order('created_at', { ascending: false })
    .limit(10)
  const forecast = await ky.get(weatherUrl).json<{ summary: string }>()
  return { posts: posts ?? [], forecast: forecast.summary }
}
