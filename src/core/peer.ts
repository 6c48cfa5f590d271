/**
 * Loading an optional peer dependency with a useful error when it is missing. A static import of
 * a package that is not installed fails while the module graph links, before any of our code
 * runs, so the subpaths that need a peer load it through `requirePeer` instead. It is synchronous
 * (a `require` made by the caller with `createRequire(import.meta.url)`) so that the subpath needs
 * no top-level await, which would stop `require()` from loading it on Node's require(esm).
 *
 * Runtime-neutral: the caller brings its own `require`, this module imports nothing.
 */
import { isFanoutError, MissingPeerError } from './errors.js'

/** How a peer is named to the user: the package, what needs it, and the command that installs it. */
export interface PeerSpec {
  readonly name: string
  readonly neededBy: string
  readonly install: string
}

/** `load(spec.name)`, with "not installed" turned into a `MissingPeerError` naming the fix. */
export function requirePeer<T>(load: (id: string) => unknown, spec: PeerSpec): T {
  try {
    return load(spec.name) as T
  } catch (error) {
    if (missingModule(error) !== spec.name) throw error
    throw new MissingPeerError(
      [spec.name],
      spec.install,
      `${spec.neededBy} needs the "${spec.name}" package, which is not installed here: ${spec.install}`,
      { cause: error },
    )
  }
}

/**
 * The package that a failed `require()` or `import()` could not find, or undefined for any other
 * failure (a peer that is installed but broken must surface as itself). A `MissingPeerError`
 * names its package too.
 */
export function missingModule(error: unknown): string | undefined {
  if (isFanoutError(error, 'FANOUT_MISSING_PEER')) return (error as MissingPeerError).packages[0]
  const code = (error as { code?: unknown } | null)?.code
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return undefined
  const message = String((error as { message?: unknown }).message)
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1]
  if (name === undefined || name.startsWith('.') || name.startsWith('/')) return undefined
  if (/^[A-Za-z]:[\\/]/.test(name)) return undefined
  // `require('pkg/deep/file')` failing means the package is there but broken.
  const packageName = name.startsWith('@')
    ? name.split('/').slice(0, 2).join('/')
    : name.split('/')[0]!
  return packageName === name ? name : undefined
}
