// expect: none
// Calls on a `trx` receiver are ordered.
interface Trx {
  getBalance(id: string): Promise<number>
  getLimits(id: string): Promise<number>
}

export async function transfer(trx: Trx, from: string) {
  const balance = await trx.getBalance(from)
  const limits = await trx.getLimits(from)
  return balance - limits
}
