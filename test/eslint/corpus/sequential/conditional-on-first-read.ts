// expect: none
// The condition of the second read comes from the first read's result: it depends on it.
interface Db {
  user: { findUnique(args: { where: { id: string } }): Promise<{ orgId: string | null } | null> }
  org: { findUnique(args: { where: { id: string } }): Promise<{ name: string } | null> }
}

export async function accountMenu(db: Db, userId: string) {
  const user = await db.user.findUnique({ where: { id: userId } })
  const org = user?.orgId ? await db.org.findUnique({ where: { id: user.orgId } }) : null
  return { user, org }
}
