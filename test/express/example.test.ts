/**
 * examples/express.ts: run as its docs say (`--smoke` answers both pages and exits 0), and served
 * in-process to check what its header says: a bad token is a 401, and a caller's deadline header
 * brings the page back in time.
 */
import { execFile } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_TOKEN, PAGE_TOKEN, start, type Example } from '../../examples/express.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

describe('examples/express.ts', () => {
  it('--smoke requests both pages once, prints them and exits 0', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'examples/express.ts'), '--smoke', '--port', '0'],
      { cwd: root, timeout: 60_000 },
    )
    expect(stdout).toContain('GET /api/dashboard → 200')
    expect(stdout).toContain('"name": "Ada Lovelace"')
    expect(stdout).toContain('GET /products/1 → 200')
    expect(stdout).toContain('"priceCents"')
  }, 60_000)

  describe('served in-process', () => {
    let example: Example
    beforeAll(async () => {
      example = await start(0)
    })
    afterAll(() => example.close())

    const get = (path: string, headers: Record<string, string>) =>
      fetch(`${example.url}${path}`, { headers })

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
      // (test/express/deadline.test.ts checks the partial results with fixed latencies.)
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

    it('answers 404 for a product id that is not a number', async () => {
      const res = await get('/products/abc', { authorization: `Bearer ${PAGE_TOKEN}` })
      expect(res.status).toBe(404)
      await res.body?.cancel()
    })

    it('serves the dashboard for its token', async () => {
      const res = await get('/api/dashboard', { authorization: `Bearer ${DEMO_TOKEN}` })
      expect(await res.json()).toMatchObject({ user: { id: 'u_7' }, access: { allowed: true } })
    })
  })
})
