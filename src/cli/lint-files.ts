/**
 * File discovery for `fanout lint`: the JavaScript and TypeScript files under the given paths,
 * honouring `.gitignore` files (the repository's root one, nested ones, and those of the
 * directories between the repository root and the path), and always skipping dependency, build
 * and VCS folders. Paths named explicitly are linted even when a `.gitignore` matches them.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path'
import type { Ignore } from 'ignore'

export const EXTENSIONS = ['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx'] as const
/** Folders never descended into, whatever the `.gitignore` files say. */
export const ALWAYS_SKIPPED = [
  'node_modules',
  'dist',
  'build',
  'coverage',
  '.git',
  '.next',
] as const

export function isLintable(path: string): boolean {
  // Declaration files hold no code that runs.
  return (EXTENSIONS as readonly string[]).includes(extname(path)) && !/\.d\.[mc]?ts$/.test(path)
}

export class PathError extends Error {
  override readonly name = 'PathError'
}

type MakeIgnore = () => Ignore

interface Layer {
  readonly dir: string
  readonly ig: Ignore
}

/** The `.gitignore` rules of each directory, read once. */
class GitignoreCache {
  readonly #byDir = new Map<string, Promise<Layer | undefined>>()
  constructor(private readonly make: MakeIgnore) {}

  layer(dir: string): Promise<Layer | undefined> {
    let found = this.#byDir.get(dir)
    if (found === undefined) {
      found = readFile(join(dir, '.gitignore'), 'utf8').then(
        (text) => ({ dir, ig: this.make().add(text) }),
        () => undefined,
      )
      this.#byDir.set(dir, found)
    }
    return found
  }
}

/** Git's rule: the deepest `.gitignore` with a matching pattern decides (a `!pattern` re-includes). */
function ignoredBy(layers: readonly Layer[], path: string, isDir: boolean): boolean {
  let ignored = false
  for (const { dir, ig } of layers) {
    const rel = relative(dir, path).split(sep).join('/')
    if (rel === '' || rel.startsWith('..')) continue
    const result = ig.test(isDir ? `${rel}/` : rel)
    if (result.ignored) ignored = true
    else if (result.unignored) ignored = false
  }
  return ignored
}

/** The nearest directory at or above `dir` that holds `.git`, or undefined. */
async function repositoryRoot(dir: string): Promise<string | undefined> {
  for (let at = dir; ; at = dirname(at)) {
    if (await exists(join(at, '.git'))) return at
    if (dirname(at) === at) return undefined
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * The files to lint under `paths` (relative to `cwd`), sorted and without duplicates, as absolute
 * paths. Throws `PathError` for a path that does not exist or a named file that is not JS/TS.
 */
export async function findFiles(
  paths: readonly string[],
  cwd: string,
  makeIgnore: MakeIgnore,
): Promise<string[]> {
  const cache = new GitignoreCache(makeIgnore)
  const found = new Set<string>()
  for (const given of paths) {
    const absolute = resolve(cwd, given)
    let info
    try {
      info = await stat(absolute)
    } catch {
      throw new PathError(`no such file or directory: ${given}`)
    }
    if (info.isFile()) {
      if (!isLintable(absolute))
        throw new PathError(
          `${given} is not a JavaScript or TypeScript file (${EXTENSIONS.join(', ')}).`,
        )
      found.add(absolute)
      continue
    }
    if (!info.isDirectory()) throw new PathError(`${given} is neither a file nor a directory.`)
    // The .gitignore files of the directories from the repository root (or the directory itself
    // outside a repository) down to this one.
    const top = (await repositoryRoot(absolute)) ?? absolute
    const chain: string[] = []
    for (let at = absolute; ; at = dirname(at)) {
      chain.unshift(at)
      if (at === top || dirname(at) === at) break
    }
    const layers: Layer[] = []
    for (const dir of chain) {
      const layer = await cache.layer(dir)
      if (layer !== undefined) layers.push(layer)
    }
    await walk(absolute, layers, cache, found)
  }
  return [...found].sort()
}

async function walk(
  dir: string,
  layers: readonly Layer[],
  cache: GitignoreCache,
  found: Set<string>,
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    const path = join(dir, entry.name)
    let isDir = entry.isDirectory()
    let isFile = entry.isFile()
    if (entry.isSymbolicLink()) {
      // Linked files are linted; linked directories are not followed (they may loop).
      isFile = await stat(path).then(
        (s) => s.isFile(),
        () => false,
      )
      isDir = false
    }
    if (isDir) {
      if ((ALWAYS_SKIPPED as readonly string[]).includes(entry.name)) continue
      if (ignoredBy(layers, path, true)) continue
      const own = await cache.layer(path)
      await walk(path, own === undefined ? layers : [...layers, own], cache, found)
    } else if (isFile && isLintable(entry.name) && !ignoredBy(layers, path, false)) {
      found.add(path)
    }
  }
}

/** `path` relative to `cwd` with forward slashes, for output. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path)
  return (rel === '' ? basename(path) : rel).split(sep).join('/')
}
