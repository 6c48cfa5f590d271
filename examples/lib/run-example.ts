/**
 * The command line every framework example shares: serve the two pages and print curl commands
 * to try them, or (`--smoke`) request both pages once, print them and exit (1 when one failed);
 * and the status a page's failure answers with. Only the server itself is the framework's.
 */
import { parseArgs } from 'node:util'
import { isFanoutError } from '../../src/index.js'
import { DEMO_TOKEN, PAGE_TOKEN } from './backends.js'

export interface Example {
  readonly url: string
  close(): Promise<void>
}

/** The status a failure answers with: a client that left, a deadline, an upstream's refusal. */
export function statusOf(error: unknown): 401 | 499 | 502 | 504 {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (isFanoutError(e, 'FANOUT_CLIENT_CLOSED')) return 499 // nobody reads it: the client left
    if (isFanoutError(e, 'FANOUT_DEADLINE')) return 504
    if ((e as { status?: unknown }).status === 401) return 401
  }
  return 502
}

const PAGES = [
  { path: '/api/dashboard', token: DEMO_TOKEN },
  { path: '/products/1', token: PAGE_TOKEN },
] as const

/** `npx tsx examples/<name>.ts [--port 3000] [--smoke]`. */
export async function runExample(
  name: string,
  start: (port: number) => Promise<Example>,
): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '3000' }, smoke: { type: 'boolean' } },
  })
  const example = await start(Number(values.port))
  if (!values.smoke) {
    console.log(`${name} example on ${example.url}; try:`)
    for (const { path, token } of PAGES)
      console.log(`  curl -H 'authorization: Bearer ${token}' ${example.url}${path}`)
    console.log(
      `  curl -H 'authorization: Bearer ${PAGE_TOKEN}' -H 'grpc-timeout: 150m' ${example.url}/products/1`,
    )
    process.once('SIGINT', () => void example.close())
    return
  }
  try {
    for (const { path, token } of PAGES) {
      // eslint-disable-next-line fanout/no-await-in-loop-independent -- one page after the other, so the output reads in order
      const res = await fetch(`${example.url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      console.log(`GET ${path} → ${res.status}\n${JSON.stringify(await res.json(), null, 2)}`)
      if (!res.ok) process.exitCode = 1
    }
  } finally {
    await example.close()
  }
}
