// expect: none
// The first call may install store.state, which the second reads.
interface Store { state: { id: string } }
interface Api {
  loadSession(store: Store): Promise<void>
  fetchItems(id: string): Promise<string[]>
}

export async function items(api: Api, store: Store) {
  const loaded = await api.loadSession(store)
  const list = await api.fetchItems(store.state.id)
  return { loaded, list }
}
