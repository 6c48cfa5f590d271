// expect: none
// Already authenticated (the session is awaited and checked first); the two *OrThrow lookups and
// the project list are the page's data and every result is shown. A correct parallel fetch:
// nothing to report, and awaiting a lookup first would only bring the waterfall back.
interface Session {
  user: { id: string }
}
interface User {
  id: string
  name: string
  plan: 'free' | 'pro'
}
interface Team {
  id: string
  name: string
}
declare function auth(): Promise<Session | null>
declare function redirect(url: string): never
declare const prisma: {
  user: { findUniqueOrThrow(q: { where: { id: string } }): Promise<User> }
  team: { findFirstOrThrow(q: { where: { id: string } }): Promise<Team> }
  project: { findMany(q: { where: { teamId: string } }): Promise<{ id: string; name: string }[]> }
}

export default async function TeamSettingsPage({ params }: { params: Promise<{ teamId: string }> }) {
  const session = await auth()
  if (!session) redirect('/login')
  const { teamId } = await params
  const [user, team, projects] = await Promise.all([
    prisma.user.findUniqueOrThrow({ where: { id: session.user.id } }),
    prisma.team.findFirstOrThrow({ where: { id: teamId } }),
    prisma.project.findMany({ where: { teamId } }),
  ])
  return {
    title: `${team.name} settings`,
    viewer: user.name,
    canUpgrade: user.plan === 'free',
    projects,
  }
}
