// expect: none
// A delete then a count on the same model.
interface Db {
  session: {
    deleteMany(args: { where: { userId: string } }): Promise<{ count: number }>
    count(args: { where: { userId: string } }): Promise<number>
  }
}

export async function logoutEverywhere(db: Db, userId: string) {
  const removed = await db.session.deleteMany({ where: { userId } })
  const left = await db.session.count({ where: { userId } })
  return { removed, left }
}
