/**
 * The house rules of `src/`: folders are concepts that import only downward, and no module is
 * part of an import loop (type-only imports included: a loop of types is still two modules that
 * cannot be understood, moved or tested one without the other).
 *
 * The layers, lowest first. A folder may import any lower layer's folders; never a higher one,
 * and never a sideways one (another folder of its own layer) unless `SIDEWAYS` lists the edge
 * with its reason. Adding a folder means placing it here.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['policies'],
  ['batch', 'cache', 'queue'],
  ['flow'],
  // fanout/diagnostics: the channel names and a subscribe helper over the core's channels.
  ['render', 'diagnostics'],
  // Runtime-neutral REST helpers (fanout/rest), below the HTTP client so the client may use them.
  ['rest'],
  // Node-side subpaths over the neutral layers: fanout/http (undici), fanout/cache/lru-cache,
  // fanout/redis (the shared stores; Node's crypto for script hashes), fanout/profile (the
  // runtime waterfall finder, on Node's diagnostics channels), fanout/otel (@opentelemetry/api).
  ['compat', 'http', 'cache-lru', 'redis', 'profile', 'otel'],
  // The framework adapters: a few lines each over the core's request context.
  ['next', 'express', 'fastify', 'hono'],
  // The job queue's brokers: BullMQ (on Redis) and RabbitMQ (amqplib).
  ['queue-bullmq', 'queue-amqp'],
  ['eslint'],
  ['demo'],
  ['cli'],
]

/** Sideways edges allowed, `from → to`, each with why. None today. */
const SIDEWAYS: ReadonlyMap<string, string> = new Map()

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')

/** Every non-test source module under `dir`. */
function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return modules(path)
    return /\.ts$/.test(entry.name) && !/\.test(-d)?\.ts$/.test(entry.name) ? [path] : []
  })
}

/** The relative imports and re-exports of a module (value and type alike), as absolute `.ts` paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of text.matchAll(
    /^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm,
  )) {
    found.push(resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts')))
  }
  return found
}

/** The top folder of a module under src (`''` for src/index.ts). */
const folderOf = (file: string): string => {
  const parts = relative(src, file).split(/[\\/]/)
  return parts.length > 1 ? parts[0]! : ''
}

const layerOf = (folder: string): number => LAYERS.findIndex((layer) => layer.includes(folder))

const files = modules(src)
const graph = new Map(files.map((file) => [file, importsOf(file)]))

describe('layering of src/', () => {
  it('every folder is placed in a layer', () => {
    const folders = new Set(files.map(folderOf).filter((f) => f !== ''))
    expect([...folders].filter((f) => layerOf(f) < 0)).toEqual([])
  })

  it('folders import only the layers below them (sideways only where SIDEWAYS says why)', () => {
    const wrongWay: string[] = []
    for (const [file, imports] of graph) {
      const from = folderOf(file)
      if (from === '') continue // src/index.ts is the entry point: it may gather from anywhere below it
      for (const target of imports) {
        const to = folderOf(target)
        if (
          to === '' ||
          to === from ||
          layerOf(to) < layerOf(from) ||
          SIDEWAYS.has(`${from} → ${to}`)
        )
          continue
        wrongWay.push(`${relative(src, file)} → ${relative(src, target)}`)
      }
    }
    expect(wrongWay).toEqual([])
  })

  it('no module is part of an import loop, type-only imports included', () => {
    // Tarjan's strongly connected components: any component with more than one module is a loop.
    let counter = 0
    const index = new Map<string, number>()
    const low = new Map<string, number>()
    const stack: string[] = []
    const onStack = new Set<string>()
    const loops: string[][] = []
    const visit = (file: string): void => {
      index.set(file, counter)
      low.set(file, counter++)
      stack.push(file)
      onStack.add(file)
      for (const next of graph.get(file) ?? []) {
        if (!graph.has(next)) continue
        if (!index.has(next)) {
          visit(next)
          low.set(file, Math.min(low.get(file)!, low.get(next)!))
        } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!))
      }
      if (low.get(file) !== index.get(file)) return
      const component: string[] = []
      for (let top = stack.pop()!; ; top = stack.pop()!) {
        onStack.delete(top)
        component.push(relative(src, top))
        if (top === file) break
      }
      if (component.length > 1) loops.push(component.sort())
    }
    for (const file of graph.keys()) if (!index.has(file)) visit(file)
    expect(loops).toEqual([])
  })

  it('the checks see real imports: the graph is not empty and resolves to existing modules', () => {
    const edges = [...graph.values()].flat()
    expect(edges.length).toBeGreaterThan(100)
    expect(edges.filter((target) => !graph.has(target) && !target.endsWith('.json'))).toEqual([])
  })
})
