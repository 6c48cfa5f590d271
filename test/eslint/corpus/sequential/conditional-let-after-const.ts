// expect: 1 report, suggestion only
// A `let` chosen between two reads, after a `const` read: it cannot share the `const` pattern, so
// it takes a temporary, and the whole conditional (its element) gives way to it.
interface Api {
  getPlan(id: string): Promise<{ name: string }>
  getTrialOffer(): Promise<{ days: number }>
  getOffer(plan: string): Promise<{ days: number }>
}

export async function offer(api: Api, id: string, plan: string, trial: boolean) {
  const current = await api.getPlan(id)
  let offer = trial ? await api.getTrialOffer() : await api.getOffer(plan)
  offer = { days: offer.days + 1 }
  return { current, offer }
}
