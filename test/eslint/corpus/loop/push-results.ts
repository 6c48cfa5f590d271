// expect: 1 report
// Results pushed into an outer array the loop never reads.
declare function loadProduct(id: number): Promise<{ id: number }>

export async function products(ids: number[]) {
  const out: { id: number }[] = []
  for (const id of ids) out.push(await loadProduct(id))
  return out
}
