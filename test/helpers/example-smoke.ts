/**
 * What every framework example (examples/express.ts, fastify.ts, hono.ts) is checked for: run as
 * its docs say (`--smoke` answers both pages and exits 0), and served in-process, a bad token is
 * a 401 and a caller's deadline header brings the page back in time. `more` adds the checks
 * particular to one example, with the same running example.
 */
import { execFile } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** What each example module exports. */
export interface ExampleModule {
  readonly DEMO_TOKEN: string
  readonly PAGE_TOKEN: string
  start(port?: number): Promise<{ readonly url: string; close(): Promise<void> }>
}

/** A GET on the running example. */
export type Get = (path: string, headers: Record<string, string>) => Promise<Response>

export function describeExample(
  file: string,
  example: ExampleModule,
  more: (get: Get) => void = () => undefined,
): void {
  const { DEMO_TOKEN, PAGE_TOKEN } = example

  describe(file, () => {
    it('--smoke requests both pages once, prints them and exits 0', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(root, file), '--smoke', '--port', '0'],
        { cwd: root, timeout: 60_000 },
      )
      expect(stdout).toContain('GET /api/dashboard → 200')
      expect(stdout).toContain('"name": "Ada Lovelace"')
      expect(stdout).toContain('GET /products/1 → 200')
      expect(stdout).toContain('"priceCents"')
    }, 60_000)

    describe('served in-process', () => {
      let running: Awaited<ReturnType<ExampleModule['start']>>
      beforeAll(async () => {
        running = await example.start(0)
      })
      afterAll(() => running.close())

      const get: Get = (path, headers) => fetch(`${running.url}${path}`, { headers })

      it('answers 401 for a token the auth service refuses, on both pages', async () => {
        for (const path of ['/api/dashboard', '/products/1']) {
          const res = await get(path, { authorization: 'Bearer nope' })
          expect(res.status, path).toBe(401)
          expect(await res.json()).toEqual({ error: 'FlowError' })
        }
      })

      it('comes back in time under a caller deadline', async () => {
        // The upstreams' latencies are random (a slow tail up to 10×), so which parts make it in
        // 140 ms varies: the page comes back in time either way, whole, partial, or as a 504.
        // (Each adapter's deadline.test.ts checks the partial results with fixed latencies.)
        for (let i = 0; i < 3; i++) {
          const startedAt = performance.now()
          const res = await get('/products/2', {
            authorization: `Bearer ${PAGE_TOKEN}`,
            'grpc-timeout': '150m',
          })
          const body = (await res.json()) as { product?: { id: number } }
          expect(performance.now() - startedAt).toBeLessThan(1_000)
          if (res.status === 200) expect(body.product?.id).toBe(2)
          else expect(res.status).toBe(504)
        }
      })

      it('answers 504 when the deadline leaves no time for the required parts', async () => {
        const res = await get('/api/dashboard', {
          authorization: `Bearer ${DEMO_TOKEN}`,
          'grpc-timeout': '20m',
        })
        expect(res.status).toBe(504)
      })

      it('serves the dashboard for its token', async () => {
        const res = await get('/api/dashboard', { authorization: `Bearer ${DEMO_TOKEN}` })
        expect(await res.json()).toMatchObject({ user: { id: 'u_7' }, access: { allowed: true } })
      })

      more(get)
    })
  })
}
