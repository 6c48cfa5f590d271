// expect: none
// Cursor pagination: each request needs the previous cursor.
declare function listItems(cursor: string | undefined): Promise<{ items: unknown[]; next?: string }>

export async function all() {
  const items: unknown[] = []
  let cursor: string | undefined
  for (let page = 0; page < 100; page++) {
    const res = await listItems(cursor)
    items.push(...res.items)
    cursor = res.next
    if (!cursor) break
  }
  return items
}
