// expect: fix
// Both awaits sit in one try: one enclosing handler already treats them alike.
interface Stats {
  getVisits(siteId: string): Promise<number>
  getSignups(siteId: string): Promise<number>
}

export async function statsCard(stats: Stats, siteId: string) {
  try {
    const visits = await stats.getVisits(siteId)
    const signups = await stats.getSignups(siteId)
    return { visits, signups }
  } catch {
    return { visits: 0, signups: 0 }
  }
}
