// expect: none
// Reads on an interactive transaction client stay sequential.
declare const tx: { account: { findUnique(q: { where: { id: string } }): Promise<unknown> } }

export async function readAll(ids: string[]) {
  const rows: unknown[] = []
  for (const id of ids) rows.push(await tx.account.findUnique({ where: { id } }))
  return rows
}
