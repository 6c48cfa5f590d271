// expect: none
// Kysely: insertInto / updateTable / deleteFrom ... execute() are writes; each sits between the reads.
interface Exec<T> { execute(): Promise<T[]>; executeTakeFirst(): Promise<T | undefined> }
interface Where<T> extends Exec<T> { where(column: string, op: '=', value: string): Where<T> }
interface Db {
  selectFrom(table: string): { selectAll(): Where<{ id: string }> }
  insertInto(table: string): { values(row: { [column: string]: string }): Exec<{ id: string }> }
  updateTable(table: string): { set(values: { [column: string]: string }): Where<{ id: string }> }
  deleteFrom(table: string): Where<{ id: string }>
}

export async function checkout(db: Db, cartId: string, userId: string) {
  const order = await db.insertInto('order').values({ cart_id: cartId, user_id: userId }).executeTakeFirst()
  const cart = await db.selectFrom('cart').selectAll().where('id', '=', cartId).executeTakeFirst()
  const closed = await db.updateTable('cart').set({ status: 'closed' }).where('id', '=', cartId).execute()
  const user = await db.selectFrom('person').selectAll().where('id', '=', userId).executeTakeFirst()
  const cleared = await db.deleteFrom('cart_item').where('cart_id', '=', cartId).execute()
  return { order, cart, closed, user, cleared }
}
