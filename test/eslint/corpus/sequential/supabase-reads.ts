// expect: fix
// Two Supabase selects on different tables.
interface Query { select(cols: string): Promise<{ data: unknown[] }> }
interface Supabase { from(table: string): Query }

export async function overview(supabase: Supabase) {
  const projects = await supabase.from('projects').select('id, name')
  const tags = await supabase.from('tags').select('*')
  return { projects: projects.data, tags: tags.data }
}
