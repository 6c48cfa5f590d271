// expect: fix
// Prisma: a $queryRaw`SELECT …` tagged template is a read, next to a model count.
interface Prisma {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>
  user: { count(args: { where: { teamId: string } }): Promise<number> }
}

export async function teamStats(prisma: Prisma, teamId: string) {
  const daily = await prisma.$queryRaw<{ day: string; n: number }[]>`
    SELECT date_trunc('day', created_at) AS day, count(*) AS n
    FROM events WHERE team_id = ${teamId} GROUP BY 1 ORDER BY 1`
  const members = await prisma.user.count({ where: { teamId } })
  return { daily, members }
}
