// expect: none
// getAuthenticatedUser() is an authentication gate: the data read starts only after it resolves.
interface Deps {
  getAuthenticatedUser(): Promise<{ id: string; email: string }>
  db: { invoice: { findMany(args: { where: { status: string } }): Promise<{ total: number }[]> } }
}

export async function GET({ getAuthenticatedUser, db }: Deps) {
  const user = await getAuthenticatedUser()
  const invoices = await db.invoice.findMany({ where: { status: 'open' } })
  return { email: user.email, invoices }
}
