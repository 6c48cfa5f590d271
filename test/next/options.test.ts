/**
 * Bad options fail at once, when the route module loads, with errors that name the call and the
 * option; a missing `next` is named as such; the subpath imports nothing from Node (edge).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { withFanout, withFanoutAction, type FanoutOptions } from '../../src/next/index.js'
import { nextExport } from '../../src/next/peer.js'

const ok = () => new Response('ok')

describe('withFanout(): bad options', () => {
  it.each([
    [
      { budgte: 100 },
      /withFanout\(\) from fanout\/next: unknown option `budgte`. Did you mean `budget`\?/,
    ],
    [{ usr: () => 'ann' }, /unknown option `usr`. Did you mean `user`\?/],
    [{ headers: () => new Headers() }, /unknown option `headers`/], // an action's option only
    [{ user: 'ann' }, /withFanout\(\) from fanout\/next: `user` must be/],
    [{ after: true }, /`after` must be/],
    [{ budget: -1 }, /`budget`/],
    [{ budget: 500, maxBudget: 100 }, /`budget` \(500 ms\) is longer than `maxBudget` \(100 ms\)/],
    [
      { deadlineHeaders: ['Grpc-Timeout'] },
      /`deadlineHeaders` must be false or a list of lower-case/,
    ],
    [{ onError: 'log' }, /`onError` must be/],
    ['fast', /options must be a plain object/],
  ])('%o is refused', (options, message) => {
    expect(() => withFanout(ok, options as FanoutOptions)).toThrow(message)
  })

  it('only own properties count', () => {
    const inherited = Object.create({ budgte: 100 }) as FanoutOptions
    expect(() => withFanout(ok, inherited)).not.toThrow()
  })

  it('a handler that is not a function is refused', () => {
    expect(() => withFanout(undefined as never)).toThrow(
      /withFanout\(\) from fanout\/next: pass the route handler \(request, context\) => Response, got undefined/,
    )
    expect(() => withFanoutAction('save' as never)).toThrow(/withFanoutAction\(\) .*got "save"/)
  })

  it('withFanoutAction() checks its own options', () => {
    expect(() => withFanoutAction(ok, { headers: 'x' } as never)).toThrow(
      /withFanoutAction\(\) from fanout\/next: `headers` must be/,
    )
  })

  it('a `user` option returning something other than a string fails the request', async () => {
    const GET = withFanout(ok, { after: () => undefined, user: () => 42 as never })
    await expect(GET(new Request('http://localhost/'), {})).rejects.toThrow(
      /the `user` option must return a non-empty string or undefined, got number/,
    )
  })
})

describe('fanout/next and the `next` package', () => {
  it('without an `after` option, hands the work to next/server (which refuses outside a Next request)', async () => {
    const GET = withFanout((_request, _context, fanout) => {
      fanout.waitUntil(() => undefined)
      return ok()
    })
    await expect(GET(new Request('http://localhost/'), {})).rejects.toThrow(
      /outside a request scope/,
    )
  })

  it('a missing `next` is a MissingPeerError naming it', async () => {
    const missing = Object.assign(
      new Error(
        "Cannot find package 'next' imported from /app/node_modules/fanout/dist/next/peer.js",
      ),
      { code: 'ERR_MODULE_NOT_FOUND' },
    )
    const load = nextExport('next/server', 'after', 'withFanout()', () => Promise.reject(missing))
    await expect(load).rejects.toMatchObject({
      name: 'MissingPeerError',
      code: 'FANOUT_MISSING_PEER',
      packages: ['next'],
      message: expect.stringMatching(/withFanout\(\) needs the "next" package.*npm install next/),
    })
  })

  it('a Next without after() (before 15.1) is named as too old; other failures stay themselves', async () => {
    await expect(
      nextExport('next/server', 'after', 'x', () => Promise.resolve({})),
    ).rejects.toThrow(/"next\/server" has no `after\(\)` export; Next.js 15.1 or later is needed/)
    const broken = new Error('next is broken')
    await expect(
      nextExport('next/server', 'after', 'x', () => Promise.reject(broken)),
    ).rejects.toBe(broken)
  })

  it('imports nothing from Node, and nothing from Next at load time (the edge runtime)', () => {
    const dir = join(import.meta.dirname, '../../src/next')
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8')
      expect(source, file).not.toMatch(/from ['"]node:|import\(['"]node:|require\(/)
      expect(source, file).not.toMatch(/^import (?!type)[^\n]*from ['"]next/m)
    }
  })
})
