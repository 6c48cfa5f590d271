/**
 * File discovery for `fanout lint`: the JavaScript and TypeScript files under the given paths,
 * honouring `.gitignore` files (the repository's root one, nested ones, and those of the
 * directories between the repository root and the path), always skipping dependency, build
 * and VCS folders, and skipping tests, mocks and fixtures unless asked. Paths the user names are
 * linted even when a `.gitignore` matches them (as ESLint does), and each must match something.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
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

/**
 * Folders of tests, mocks and fixtures, skipped under a directory unless `--include-tests`:
 * sequential awaits there are usually deliberate, and fixtures are often waterfalls on purpose.
 */
export const TEST_FOLDERS = [
  'test',
  'tests',
  '__tests__',
  '__mocks__',
  '__fixtures__',
  'fixtures',
  'e2e',
  'cypress',
  'playwright',
] as const

/** Test files by name: `*.test.*`, `*.spec.*` and Cypress's `*.cy.*`. */
export function isTestFile(name: string): boolean {
  return /\.(?:test|spec|cy)\.[cm]?[jt]sx?$/.test(name)
}

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

/** What `findFiles` needs besides the paths. */
export interface FindOptions {
  readonly cwd: string
  readonly makeIgnore: MakeIgnore
  /** Lint test files and test folders found under a directory too. */
  readonly includeTests: boolean
  /** `--ignore` patterns: gitignore syntax, relative to `cwd`; they apply to named paths too. */
  readonly ignore: readonly string[]
  /**
   * The user named the paths (not the default `.`): each must match a lintable file (a
   * `PathError` otherwise), and a named directory is linted even when a `.gitignore` above it
   * ignores it.
   */
  readonly explicit: boolean
}

/** Why files under a named directory were left out, for the error when none is left. */
interface Skipped {
  tests: number
  gitignored: number
  ignoredByOption: number
  folders: number
}

interface Walk {
  readonly cache: GitignoreCache
  readonly found: Set<string>
  readonly includeTests: boolean
  readonly ignoredByOption: (path: string, isDir: boolean) => boolean
  skipped: Skipped
}

/**
 * The files to lint under `paths` (relative to `cwd`), sorted and without duplicates, as absolute
 * paths. A file named explicitly is always linted (unless `--ignore` matches it); under a
 * directory, `.gitignore` files, the always-skipped folders, test files and test folders (unless
 * `includeTests`) and `--ignore` patterns apply. Throws `PathError` for a path that does not
 * exist, a named file that is not JS/TS, or (when `explicit`) a path that matches nothing to lint.
 */
export async function findFiles(paths: readonly string[], options: FindOptions): Promise<string[]> {
  const { cwd } = options
  const byOption = options.makeIgnore().add([...options.ignore])
  const walk: Walk = {
    cache: new GitignoreCache(options.makeIgnore),
    found: new Set(),
    includeTests: options.includeTests,
    ignoredByOption(path, isDir) {
      if (options.ignore.length === 0) return false
      const rel = relative(cwd, path).split(sep).join('/')
      // Patterns are relative to cwd: they say nothing about cwd itself or paths outside it.
      if (rel === '' || rel.startsWith('../') || rel === '..' || isAbsolute(rel)) return false
      return byOption.ignores(isDir ? `${rel}/` : rel)
    },
    skipped: { tests: 0, gitignored: 0, ignoredByOption: 0, folders: 0 },
  }
  for (const given of paths) {
    const absolute = resolve(cwd, given)
    let info
    try {
      info = await stat(absolute)
    } catch {
      throw new PathError(`no such file or directory: ${given}`)
    }
    if (info.isFile()) {
      if (/\.d\.[mc]?ts$/.test(absolute))
        throw new PathError(`${given} is a declaration file: it holds no code to lint.`)
      if (!isLintable(absolute))
        throw new PathError(
          `${given} is not a JavaScript or TypeScript file (${EXTENSIONS.join(', ')}).`,
        )
      if (walk.ignoredByOption(absolute, false)) {
        if (options.explicit) throw new PathError(`${given} is ignored by --ignore.`)
        continue
      }
      walk.found.add(absolute)
      continue
    }
    if (!info.isDirectory()) throw new PathError(`${given} is neither a file nor a directory.`)
    walk.skipped = { tests: 0, gitignored: 0, ignoredByOption: 0, folders: 0 }
    const layers = await layersAbove(absolute, walk.cache, options.explicit)
    const count = await walkDir(absolute, layers, walk)
    if (count === 0 && options.explicit) throw new PathError(nothingIn(given, walk.skipped))
  }
  return [...walk.found].sort()
}

/**
 * The `.gitignore` layers that apply under `dir`: those of the directories from the repository
 * root (or `dir` itself outside a repository) down to it. A directory the user named is linted
 * even when those ignore it: then only its own `.gitignore` (and those below) count.
 */
async function layersAbove(dir: string, cache: GitignoreCache, named: boolean): Promise<Layer[]> {
  const top = (await repositoryRoot(dir)) ?? dir
  const chain: string[] = []
  for (let at = dir; ; at = dirname(at)) {
    chain.unshift(at)
    if (at === top || dirname(at) === at) break
  }
  const layers: Layer[] = []
  for (const at of chain) {
    const layer = await cache.layer(at)
    if (layer !== undefined) layers.push(layer)
  }
  if (!named || !ignoredBy(layers, dir, true)) return layers
  const own = await cache.layer(dir)
  return own === undefined ? [] : [own]
}

function nothingIn(given: string, skipped: Skipped): string {
  const why: string[] = []
  const n = (count: number, one: string, many: string): string =>
    `${count} ${count === 1 ? one : many}`
  if (skipped.tests > 0)
    why.push(
      `${n(skipped.tests, 'test file or folder', 'test files or folders')} (--include-tests lints them)`,
    )
  if (skipped.ignoredByOption > 0)
    why.push(`${n(skipped.ignoredByOption, 'path', 'paths')} matched by --ignore`)
  if (skipped.gitignored > 0)
    why.push(`${n(skipped.gitignored, 'path', 'paths')} matched by .gitignore`)
  if (skipped.folders > 0)
    why.push(
      `${n(skipped.folders, 'folder', 'folders')} always skipped (${ALWAYS_SKIPPED.join(', ')})`,
    )
  const what = `no ${EXTENSIONS.join(' ')} files to lint in ${given}`
  return why.length === 0 ? `${what}.` : `${what}: skipped ${why.join(', ')}.`
}

/** Lints `dir`'s files into `walk.found`; returns how many it found (already found ones included). */
async function walkDir(dir: string, layers: readonly Layer[], walk: Walk): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  let count = 0
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
      if ((ALWAYS_SKIPPED as readonly string[]).includes(entry.name)) walk.skipped.folders++
      else if (!walk.includeTests && (TEST_FOLDERS as readonly string[]).includes(entry.name))
        walk.skipped.tests++
      else if (walk.ignoredByOption(path, true)) walk.skipped.ignoredByOption++
      else if (ignoredBy(layers, path, true)) walk.skipped.gitignored++
      else {
        const own = await walk.cache.layer(path)
        count += await walkDir(path, own === undefined ? layers : [...layers, own], walk)
      }
    } else if (isFile && isLintable(entry.name)) {
      if (!walk.includeTests && isTestFile(entry.name)) walk.skipped.tests++
      else if (walk.ignoredByOption(path, false)) walk.skipped.ignoredByOption++
      else if (ignoredBy(layers, path, false)) walk.skipped.gitignored++
      else {
        walk.found.add(path)
        count++
      }
    }
  }
  return count
}

/** `path` relative to `cwd` with forward slashes, for output. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path)
  return (rel === '' ? basename(path) : rel).split(sep).join('/')
}
