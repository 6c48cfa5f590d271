// expect: fix
// Two Redis reads on different keys.
interface Redis {
  get(key: string): Promise<string | null>
  hgetall(key: string): Promise<Record<string, string>>
}

export async function sessionView(redis: Redis, id: string) {
  const flag = await redis.get(`flags:${id}`)
  const counters = await redis.hgetall(`counters:${id}`)
  return { flag, counters }
}
