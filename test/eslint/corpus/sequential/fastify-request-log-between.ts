// expect: 1 report, suggestion only
// A Fastify handler logs through `request.log` between two reads: a log line does not end a group.
interface Log { info(msg: string, extra?: unknown): void }
interface Req { log: Log; params: { id: string } }
interface Api {
  getOrder(id: string): Promise<{ total: number }>
  getShipping(id: string): Promise<{ eta: string }>
}

export async function orderHandler(request: Req, api: Api) {
  const order = await api.getOrder(request.params.id)
  request.log.info('order loaded', { total: order.total })
  const shipping = await api.getShipping(request.params.id)
  return { order, shipping }
}
