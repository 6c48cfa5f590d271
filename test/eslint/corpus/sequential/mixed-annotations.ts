// expect: suggestion only
// Only one binding is annotated: a tuple annotation cannot be written without guessing the other type.
interface Api {
  getPlan(id: string): Promise<{ tier: string }>
  getUsage(id: string): Promise<number>
}

export async function planCard(api: Api, id: string) {
  const plan: { tier: string } = await api.getPlan(id)
  const usage = await api.getUsage(id)
  return { plan, usage }
}
