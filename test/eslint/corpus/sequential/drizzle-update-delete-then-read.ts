// expect: none
// Drizzle: update().set().where() and delete().where() are writes, never grouped, even next to a
// read of another table.
interface Column { readonly name: string }
interface Table { readonly id: Column; readonly teamId: Column }
interface Returning { returning(): Promise<{ id: string }[]> }
interface Db {
  update(table: Table): { set(values: { name: string }): { where(condition: unknown): Returning } }
  delete(table: Table): { where(condition: unknown): Returning }
  select(): { from(table: Table): PromiseLike<{ id: string }[]> }
}
interface Ops { eq(column: Column, value: unknown): unknown }

interface Schema { teams: Table; invites: Table; plans: Table }

export async function renameTeam(db: Db, { teams, invites, plans }: Schema, { eq }: Ops, id: string, name: string) {
  const [renamed] = await db.update(teams).set({ name }).where(eq(teams.id, id)).returning()
  const revoked = await db.delete(invites).where(eq(invites.teamId, id)).returning()
  const available = await db.select().from(plans)
  return { renamed, revoked, available }
}
