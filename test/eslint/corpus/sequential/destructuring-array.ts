// expect: fix
// Array destructuring and two reads on one repository.
interface Repo {
  findRecent(limit: number): Promise<string[]>
  findOwners(teamId: string): Promise<string[]>
}

export async function teamHeader(repo: Repo, teamId: string) {
  const [latest] = await repo.findRecent(1)
  const [owner, ...rest] = await repo.findOwners(teamId)
  return { latest, owner, others: rest.length }
}
