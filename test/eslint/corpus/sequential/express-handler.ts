// expect: fix
// Express-style handler: the user and their orders are independent reads.
interface Request { params: { id: string } }
interface Response { json(body: unknown): void }
interface Deps {
  users: { findById(id: string): Promise<{ name: string }> }
  orders: { listByUser(id: string): Promise<string[]> }
}

export async function getUserWithOrders(req: Request, res: Response, { users, orders }: Deps) {
  const id = req.params.id
  const user = await users.findById(id)
  const recent = await orders.listByUser(id)
  res.json({ user, recent })
}
