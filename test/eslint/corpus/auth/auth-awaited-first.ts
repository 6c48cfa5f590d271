// expect: none
// The check is awaited before the data calls start.
declare function verifyAccessToken(token: string): Promise<{ userId: string }>
declare function getBalance(userId: string): Promise<number>
declare function getTransactions(userId: string): Promise<unknown[]>

export async function account(token: string) {
  const { userId } = await verifyAccessToken(token)
  const [balance, transactions] = await Promise.all([getBalance(userId), getTransactions(userId)])
  return { balance, transactions }
}
