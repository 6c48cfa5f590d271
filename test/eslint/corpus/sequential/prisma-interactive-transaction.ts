// expect: none
// Reads inside an interactive transaction run on one connection.
interface Tx {
  account: { findUnique(args: { where: { id: string } }): Promise<{ balance: number } | null> }
  ledger: { findMany(args: { where: { accountId: string } }): Promise<number[]> }
}
interface Db { $transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> }

export async function statement(db: Db, id: string) {
  return db.$transaction(async (tx) => {
    const account = await tx.account.findUnique({ where: { id } })
    const entries = await tx.ledger.findMany({ where: { accountId: id } })
    return { account, entries }
  })
}
