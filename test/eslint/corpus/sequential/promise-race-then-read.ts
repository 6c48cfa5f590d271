// expect: none
// Promise.race settles with the first result: a read is not added to it.
interface Mirrors {
  fetchFromPrimary(path: string): Promise<string>
  fetchFromReplica(path: string): Promise<string>
}
interface Db { release: { findFirst(args: { where: { latest: boolean } }): Promise<{ version: string } | null> } }

export async function downloadInfo(mirrors: Mirrors, db: Db, path: string) {
  const checksum = await Promise.race([mirrors.fetchFromPrimary(path), mirrors.fetchFromReplica(path)])
  const release = await db.release.findFirst({ where: { latest: true } })
  return { checksum, release }
}
