// expect: 1 report, suggestion only
// `isTrial ? await getTrialPricing() : await getPricing(plan)`: exactly one of the two runs; the
// element is the same conditional without the awaits, grouped with an independent read.
interface Billing {
  getTrialPricing(): Promise<{ monthly: number }>
  getPricing(plan: string): Promise<{ monthly: number }>
}
interface Db { feature: { findMany(args: { where: { plan: string } }): Promise<{ key: string }[]> } }

export async function planSummary(billing: Billing, db: Db, plan: string, isTrial: boolean) {
  const pricing = isTrial ? await billing.getTrialPricing() : await billing.getPricing(plan)
  const features = await db.feature.findMany({ where: { plan } })
  return { pricing, features }
}
