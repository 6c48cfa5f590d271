// expect: none
// Page two needs the cursor of page one.
interface Api { listItems(args: { cursor?: string }): Promise<{ items: string[]; next: string }> }

export async function firstTwoPages(api: Api) {
  const page1 = await api.listItems({})
  const page2 = await api.listItems({ cursor: page1.next })
  return [...page1.items, ...page2.items]
}
