// expect: none
// A create then a read of the same table.
interface Db {
  user: {
    create(args: { data: { email: string } }): Promise<{ id: string }>
    findMany(): Promise<{ id: string }[]>
  }
}

export async function signup(db: Db, email: string) {
  const created = await db.user.create({ data: { email } })
  const users = await db.user.findMany()
  return { created, count: users.length }
}
