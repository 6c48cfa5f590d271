// expect: fix
// Kysely: selectFrom(...).executeTakeFirst() and selectFrom(...).execute() are reads, whatever the last method says.
interface Person { id: string; first_name: string }
interface Pet { name: string; owner_id: string }
interface Select<T> {
  selectAll(): Select<T>
  select(columns: readonly (keyof T)[]): Select<T>
  where(column: keyof T, op: '=', value: string): Select<T>
  execute(): Promise<T[]>
  executeTakeFirst(): Promise<T | undefined>
}
interface Db {
  selectFrom(table: 'person'): Select<Person>
  selectFrom(table: 'pet'): Select<Pet>
}

export async function ownerPage(db: Db, personId: string) {
  const person = await db.selectFrom('person').selectAll().where('id', '=', personId).executeTakeFirst()
  const pets = await db.selectFrom('pet').select(['name']).where('owner_id', '=', personId).execute()
  return { person, pets }
}
