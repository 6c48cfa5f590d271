// expect: 1 report
// A counter while loop, the increment as the last statement.
declare function getShard(n: number): Promise<unknown>
declare function consume(x: unknown): void

export async function shards(count: number) {
  let i = 0
  while (i < count) {
    consume(await getShard(i))
    i++
  }
}
