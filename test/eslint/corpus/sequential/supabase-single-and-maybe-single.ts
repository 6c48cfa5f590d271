// expect: fix
// Supabase: .select().eq().single() and .select().eq().maybeSingle() on two tables are reads.
interface Result<T> { data: T | null; error: { message: string } | null }
interface Filter<T> {
  eq(column: string, value: string): Filter<T>
  single(): PromiseLike<Result<T>>
  maybeSingle(): PromiseLike<Result<T>>
}
interface Supabase {
  from(table: 'profiles'): { select(columns: string): Filter<{ username: string }> }
  from(table: 'settings'): { select(columns: string): Filter<{ theme: string }> }
}

export async function GET(supabase: Supabase, userId: string) {
  const { data: profile } = await supabase.from('profiles').select('*').eq('id', userId).single()
  const { data: settings } = await supabase.from('settings').select('theme').eq('user_id', userId).maybeSingle()
  return { profile, theme: settings?.theme ?? 'system' }
}
