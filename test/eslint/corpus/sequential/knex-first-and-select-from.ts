// expect: fix
// Knex: knex('users').where({ id }).first() and knex.select('*').from('orders').where(...) are reads.
interface Builder<T> extends PromiseLike<T[]> {
  where(filter: { [column: string]: string }): Builder<T>
  first(): PromiseLike<T | undefined>
}
interface Knex {
  (table: string): Builder<{ id: string; email: string }>
  select(...columns: string[]): { from(table: string): Builder<{ id: string; total: number }> }
}

export async function accountHandler(knex: Knex, id: string) {
  const user = await knex('users').where({ id }).first()
  const orders = await knex.select('*').from('orders').where({ user_id: id })
  return { user, orders }
}
