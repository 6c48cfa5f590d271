// expect: none
// requireOrgAccess() is awaited first; afterwards the org row (executeTakeFirstOrThrow) and its
// seats are read together and both returned.
interface OrgRow {
  id: string
  name: string
  seatLimit: number
}
interface SeatRow {
  userId: string
}
interface Query<T> {
  where(column: string, op: '=', value: string): Query<T>
  selectAll(): Query<T>
  execute(): Promise<T[]>
  executeTakeFirstOrThrow(): Promise<T>
}
declare const db: {
  selectFrom(table: 'organization'): Query<OrgRow>
  selectFrom(table: 'seat'): Query<SeatRow>
}
declare function requireOrgAccess(orgId: string, userId: string): Promise<void>

export async function seatsPage(orgId: string, userId: string) {
  await requireOrgAccess(orgId, userId)
  const [org, seats] = await Promise.all([
    db.selectFrom('organization').where('id', '=', orgId).selectAll().executeTakeFirstOrThrow(),
    db.selectFrom('seat').where('organization_id', '=', orgId).selectAll().execute(),
  ])
  return { org, used: seats.length, free: org.seatLimit - seats.length }
}
