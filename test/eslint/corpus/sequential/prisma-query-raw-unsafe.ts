// expect: fix
// Prisma: $queryRawUnsafe with a SELECT and a findUnique on another model are independent reads.
interface Prisma {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>
  team: { findUnique(args: { where: { id: string } }): Promise<{ name: string } | null> }
}

export async function leaderboard(prisma: Prisma, teamId: string, sortColumn: 'score' | 'wins') {
  const rows = await prisma.$queryRawUnsafe<{ player: string; value: number }[]>(
    `SELECT player, ${sortColumn} AS value FROM standings WHERE team_id = $1 ORDER BY 2 DESC LIMIT 10`,
    teamId,
  )
  const team = await prisma.team.findUnique({ where: { id: teamId } })
  return { team, rows }
}
