/**
 * `after()` and `headers()` from Next, loaded on first use. A dynamic `import()` (not the core's
 * `requirePeer`, which needs `createRequire` from `node:module`) keeps this subpath free of Node
 * imports, so it runs on Next's edge runtime too; the literal specifiers let Next's bundler see
 * and resolve them.
 */
import { MissingPeerError } from '../core/errors.js'
import { missingModule } from '../core/peer.js'

export type NextModule = 'next/server' | 'next/headers'

/** How a Next module is loaded; tests pass their own to see the missing-peer path. */
export type Importer = (id: NextModule) => Promise<unknown>

// With `.js`: the files Next ships at its root, as Node's ESM resolution (and NodeNext) names them.
const importNext: Importer = (id) =>
  id === 'next/server' ? import('next/server.js') : import('next/headers.js')

const loaded = new Map<string, Promise<unknown>>()

/**
 * The function `name` exported by `id`, memoized (one load per process). A missing `next` becomes
 * a `MissingPeerError` naming it; an installed Next too old to have the export is named as such.
 */
export function nextExport<T>(
  id: NextModule,
  name: 'after' | 'headers',
  neededBy: string,
  load: Importer = importNext,
): Promise<T> {
  const key = `${id}#${name}`
  const memo = load === importNext ? loaded.get(key) : undefined
  if (memo !== undefined) return memo as Promise<T>
  const found = load(id).then(
    (mod) => pick<T>(mod, id, name),
    (error: unknown) => {
      if (missingModule(error) !== 'next') throw error
      throw new MissingPeerError(
        ['next'],
        'npm install next',
        `${neededBy} needs the "next" package, which is not installed here: npm install next (or pass the \`${name}\` option).`,
        { cause: error },
      )
    },
  )
  // Loading starts when the route module does; a failure surfaces on the first request, not as an
  // unhandled rejection at startup.
  found.catch(() => undefined)
  if (load === importNext) loaded.set(key, found)
  return found
}

function pick<T>(mod: unknown, id: NextModule, name: string): T {
  const m = mod as Record<string, unknown> & { default?: Record<string, unknown> }
  // A CommonJS module seen from ESM: its exports are on `default` where the names were not found.
  const fn = m[name] ?? m.default?.[name]
  if (typeof fn !== 'function')
    throw new MissingPeerError(
      ['next'],
      'npm install next@latest',
      `fanout/next: "${id}" has no \`${name}()\` export; Next.js 15.1 or later is needed.`,
    )
  return fn as T
}
