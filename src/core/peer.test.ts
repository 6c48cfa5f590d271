/**
 * Loading an optional peer: a missing package becomes a MissingPeerError naming the install
 * command; anything else (a peer that is there but broken) surfaces as itself.
 */
import { describe, expect, it } from 'vitest'
import { isFanoutError } from './errors.js'
import { missingModule, requirePeer } from './peer.js'

const notFound = (id: string, code = 'MODULE_NOT_FOUND'): Error =>
  Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/x.js`), { code })

const spec = { name: 'undici', neededBy: 'fanout/http', install: 'npm install undici' }

describe('requirePeer', () => {
  it('returns what the loader loads', () => {
    const module = { Pool: class {} }
    expect(requirePeer((id) => (id === 'undici' ? module : undefined), spec)).toBe(module)
  })

  it('a missing package: MissingPeerError with the package, the command and the cause', () => {
    const cause = notFound('undici')
    let thrown: unknown
    try {
      requirePeer(() => {
        throw cause
      }, spec)
    } catch (error) {
      thrown = error
    }
    expect(isFanoutError(thrown, 'FANOUT_MISSING_PEER')).toBe(true)
    expect(thrown).toMatchObject({
      name: 'MissingPeerError',
      packages: ['undici'],
      install: 'npm install undici',
      message:
        'fanout/http needs the "undici" package, which is not installed here: npm install undici',
      cause,
    })
  })

  it('throws the MissingPeerError of the root entry, naming the package and its install command', async () => {
    const { MissingPeerError } = await import('../index.js')
    const lru = {
      name: 'lru-cache',
      neededBy: 'fanout/cache/lru-cache',
      install: 'npm install lru-cache',
    }
    let thrown: unknown
    try {
      requirePeer(() => {
        throw notFound('lru-cache', 'ERR_MODULE_NOT_FOUND')
      }, lru)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(MissingPeerError)
    const error = thrown as InstanceType<typeof MissingPeerError>
    expect(error.code).toBe('FANOUT_MISSING_PEER')
    expect(error.packages).toEqual(['lru-cache'])
    expect(error.install).toBe('npm install lru-cache')
    expect(error.message).toContain('"lru-cache"')
    expect(error.message).toContain('npm install lru-cache')
  })

  it('a package the peer itself cannot find, or any other failure, is rethrown as it is', () => {
    for (const error of [notFound('undici-types'), notFound('undici/lib/x.js'), new TypeError('x')])
      expect(() =>
        requirePeer(() => {
          throw error
        }, spec),
      ).toThrow(error)
  })
})

describe('missingModule', () => {
  it('names the package of a failed require() or import(), nothing for relative or deep paths', () => {
    expect(missingModule(notFound('ignore'))).toBe('ignore')
    expect(missingModule(notFound('@typescript-eslint/parser', 'ERR_MODULE_NOT_FOUND'))).toBe(
      '@typescript-eslint/parser',
    )
    expect(missingModule(notFound('./lint.js'))).toBeUndefined()
    expect(missingModule(notFound('/app/x.js'))).toBeUndefined()
    expect(missingModule(notFound('eslint/use-at-your-own-risk'))).toBeUndefined()
    expect(missingModule(new Error("Cannot find module 'x'"))).toBeUndefined()
    expect(missingModule(null)).toBeUndefined()
  })
})
