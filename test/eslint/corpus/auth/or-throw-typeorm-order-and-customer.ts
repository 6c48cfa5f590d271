// expect: none
// Express + TypeORM: authentication is a middleware (req.user is set before the handler runs);
// both findOneOrFail reads are the response body.
interface Order {
  id: number
  customerId: number
  status: string
}
interface Customer {
  id: number
  email: string
}
interface Repository<T> {
  findOneOrFail(options: { where: Partial<T> }): Promise<T>
}
declare const orderRepository: Repository<Order>
declare const customerRepository: Repository<Customer>
interface AuthedRequest {
  params: { orderId: string; customerId: string }
  user: { id: number; role: 'staff' | 'customer' }
}
interface Res {
  json(body: unknown): void
}

export async function showOrder(req: AuthedRequest, res: Res): Promise<void> {
  const [order, customer] = await Promise.all([
    orderRepository.findOneOrFail({ where: { id: Number(req.params.orderId) } }),
    customerRepository.findOneOrFail({ where: { id: Number(req.params.customerId) } }),
  ])
  res.json({ order, customer: { email: customer.email } })
}
