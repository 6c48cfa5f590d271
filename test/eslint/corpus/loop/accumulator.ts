// expect: none
// An accumulator that feeds the next call.
declare function getDelta(base: number, id: string): Promise<number>

export async function total(ids: string[]) {
  let sum = 0
  for (const id of ids) {
    sum += await getDelta(sum, id)
  }
  return sum
}
