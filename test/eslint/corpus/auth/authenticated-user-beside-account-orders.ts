// expect: 1 report
// expect: suggestion
// Express: getAuthenticatedUser() is tested afterwards (401), but the account's orders were
// already read beside it.
interface Req {
  headers: { authorization?: string }
  params: { accountId: string }
}
interface Res {
  status(code: number): Res
  json(body: unknown): void
}
declare function getAuthenticatedUser(req: Req): Promise<{ id: string } | null>
declare function listOrdersForAccount(accountId: string): Promise<{ id: string; total: number }[]>

export async function accountOrders(req: Req, res: Res): Promise<void> {
  const [user, orders] = await Promise.all([
    getAuthenticatedUser(req),
    listOrdersForAccount(req.params.accountId),
  ])
  if (!user) {
    res.status(401).json({ error: 'Sign in first' })
    return
  }
  res.json({ orders })
}
