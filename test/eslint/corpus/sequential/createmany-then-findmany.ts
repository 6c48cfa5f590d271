// expect: none
// createMany then findMany of the rows just written.
interface Db {
  rule: {
    createMany(args: { data: { name: string }[] }): Promise<{ count: number }>
    findMany(args: { where: { name: { in: string[] } } }): Promise<{ id: string }[]>
  }
}

export async function importRules(db: Db, names: string[]) {
  const result = await db.rule.createMany({ data: names.map((name) => ({ name })) })
  const rules = await db.rule.findMany({ where: { name: { in: names } } })
  return { result, rules }
}
