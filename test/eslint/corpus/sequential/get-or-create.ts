// expect: none
// getOrCreate writes; the read after it may see its row.
interface Repo {
  getOrCreateCart(userId: string): Promise<{ id: string }>
  getCartCount(userId: string): Promise<number>
}

export async function cart(repo: Repo, userId: string) {
  const c = await repo.getOrCreateCart(userId)
  const count = await repo.getCartCount(userId)
  return { c, count }
}
