// expect: none
// Knex: .insert(...), .update(...) and .del() are writes; each stands between two reads.
interface Builder extends PromiseLike<{ id: string }[]> {
  where(filter: { [column: string]: string }): Builder
  first(): PromiseLike<{ id: string } | undefined>
  insert(row: { [column: string]: string }): PromiseLike<number[]>
  update(values: { [column: string]: string }): PromiseLike<number>
  del(): PromiseLike<number>
}
interface Knex { (table: string): Builder }

export async function archiveProject(knex: Knex, projectId: string, userId: string) {
  const project = await knex('projects').where({ id: projectId }).first()
  const logged = await knex('activity').insert({ project_id: projectId, user_id: userId, kind: 'archive' })
  const owner = await knex('users').where({ id: userId }).first()
  const archived = await knex('projects').where({ id: projectId }).update({ status: 'archived' })
  const tasks = await knex('tasks').where({ project_id: projectId })
  const removed = await knex('invites').where({ project_id: projectId }).del()
  return { project, logged, owner, archived, tasks, removed }
}
