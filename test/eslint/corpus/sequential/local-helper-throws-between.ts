// expect: none
// The helper between the reads throws on a bad role: it is a check, and the second read stays
// behind it.
interface Db {
  member: { findFirst(q: { where: { userId: string } }): Promise<{ role: string }> }
  payroll: { findMany(): Promise<{ amount: number }[]> }
}

function onlyAdmins(role: string) {
  if (role !== 'admin') throw new Error('forbidden')
  return role
}

export async function payroll(db: Db, userId: string, role: string) {
  const member = await db.member.findFirst({ where: { userId } })
  const checked = onlyAdmins(role)
  const rows = await db.payroll.findMany()
  return { member, checked, rows }
}
