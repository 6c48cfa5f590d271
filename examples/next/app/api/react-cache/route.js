// React's cache() in a route handler: it memoizes nothing (no error, no warning), which is why
// fanout/next memoizes per request with requestScoped(). test/next/e2e.test.ts keeps this true.
import { cache } from 'react'

let loads = 0
const load = cache((id) => ({ id, load: ++loads }))

export function GET() {
  const first = load('ann')
  const second = load('ann')
  return Response.json({ memoized: first === second })
}
