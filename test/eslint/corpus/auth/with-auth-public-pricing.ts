// expect: none
// withAuth() (session lookup) only chooses the call to action; pricing is public.
declare function withAuth(): Promise<{ user: { email: string } | null }>
declare function getPricingPlans(currency: 'usd' | 'eur'): Promise<{ name: string; price: number }[]>

export default async function PricingPage() {
  const [{ user }, plans] = await Promise.all([withAuth(), getPricingPlans('usd')])
  return { plans, cta: user ? 'Go to dashboard' : 'Start free trial' }
}
