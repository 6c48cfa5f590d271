// expect: 1 report
// Start early, await late: the data call is already running while the token is verified.
declare function verifySessionToken(token: string): Promise<{ userId: string }>
declare function getAccountSettings(accountId: string): Promise<unknown>

export async function settings(token: string, accountId: string) {
  const settingsPromise = getAccountSettings(accountId)
  await verifySessionToken(token)
  return await settingsPromise
}
