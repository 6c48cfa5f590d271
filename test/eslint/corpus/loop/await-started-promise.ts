// expect: none
// Awaiting promises that were already started is not a waterfall.
export async function settleAll(promises: Promise<unknown>[]) {
  const values: unknown[] = []
  for (const p of promises) values.push(await p)
  return values
}
