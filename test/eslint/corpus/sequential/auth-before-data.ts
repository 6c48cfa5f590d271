// expect: none
// Auth must complete before the data is read.
interface Deps {
  auth(): Promise<{ user: string } | null>
  db: { secret: { findMany(): Promise<string[]> } }
}

export async function secrets({ auth, db }: Deps) {
  const session = await auth()
  const rows = await db.secret.findMany()
  return { session, rows }
}
