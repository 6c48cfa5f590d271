// expect: none
// Supabase writes: .upsert(...), .update(...).eq(...), .delete().eq(...), each bound to a variable.
interface Result { data: unknown; error: { message: string } | null }
interface Filter extends PromiseLike<Result> { eq(column: string, value: string): PromiseLike<Result> }
interface Table {
  upsert(row: { user_id: string; theme: string }): PromiseLike<Result>
  update(values: { display_name: string }): Filter
  delete(): Filter
}
interface Supabase { from(table: string): Table }

export async function saveSettings(supabase: Supabase, userId: string, name: string, theme: string) {
  const prefs = await supabase.from('preferences').upsert({ user_id: userId, theme })
  const profile = await supabase.from('profiles').update({ display_name: name }).eq('id', userId)
  const drafts = await supabase.from('drafts').delete().eq('user_id', userId)
  return { prefs: prefs.error, profile: profile.error, drafts: drafts.error }
}
