/**
 * A deterministic TypeScript codebase for the `lint` benchmark: route handlers, services, types,
 * utilities and a few React components, ~10,000 lines, the same for the same seed. Handlers mix
 * the shapes fanout's rules look at: independent awaits in a row (waterfalls), dependent chains
 * (each call needs the one before), awaits already in `Promise.all`, awaits in loops, auth checks
 * before data, try/catch and branches. Also a `.gitignore`d folder and a `node_modules` folder,
 * which the linter must skip (their lines are not counted).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { seededRandom as random } from '../src/core/random.js'

export interface Corpus {
  readonly dir: string
  /** Absolute paths of the files a linter should check, sorted. */
  readonly files: readonly string[]
  /** Lines in those files. */
  readonly lines: number
  /** Handlers written as a waterfall of independent awaits (what no-sequential-await should find). */
  readonly waterfalls: number
}

const ENTITIES = [
  'user',
  'order',
  'invoice',
  'product',
  'cart',
  'payment',
  'shipment',
  'review',
  'coupon',
  'account',
  'team',
  'project',
  'ticket',
  'message',
  'notification',
  'report',
  'warehouse',
  'supplier',
  'subscription',
  'plan',
] as const

const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1)

class Gen {
  readonly rand: () => number
  waterfalls = 0
  constructor(seed: number) {
    this.rand = random(seed)
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1))
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!
  }
  others(entity: string, n: number): string[] {
    const pool = ENTITIES.filter((e) => e !== entity)
    const out: string[] = []
    while (out.length < n) {
      const e = this.pick(pool)
      if (!out.includes(e)) out.push(e)
    }
    return out
  }
}

function typesFile(g: Gen, entity: string): string {
  const E = cap(entity)
  const fields = [
    'createdAt: Date',
    'updatedAt: Date',
    'ownerId: string',
    'companyId: string',
    'status: Status',
    'tags: readonly string[]',
    'version: number',
    'note?: string',
    'amountCents: number',
    'currency: Currency',
  ]
  const chosen = fields.filter(() => g.rand() < 0.6)
  return `/** ${E} records as the API returns them. */
export type Status = 'draft' | 'active' | 'archived' | 'deleted'
export type Currency = 'EUR' | 'USD' | 'GBP'

export interface ${E} {
  readonly id: string
${chosen.map((f) => `  readonly ${f}`).join('\n')}
}

export interface ${E}Page {
  readonly items: readonly ${E}[]
  readonly next: string | null
  readonly total: number
}

export interface ${E}Filter {
  readonly status?: Status
  readonly ownerId?: string
  readonly limit?: number
  readonly cursor?: string
}

export type ${E}Patch = Partial<Omit<${E}, 'id'>>

export enum ${E}Event {
  Created = '${entity}.created',
  Updated = '${entity}.updated',
  Deleted = '${entity}.deleted',
}

export function is${E}(value: unknown): value is ${E} {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string'
}
`
}

function serviceFile(g: Gen, entity: string): string {
  const E = cap(entity)
  const [dep] = g.others(entity, 1)
  const D = cap(dep!)
  const methods: string[] = []
  methods.push(`  async get(id: string): Promise<${E}> {
    const cached = this.cache.get(id)
    if (cached !== undefined) return cached
    const ${entity} = await this.http.get<${E}>(\`/${entity}s/\${encodeURIComponent(id)}\`)
    this.cache.set(id, ${entity})
    return ${entity}
  }`)
  methods.push(`  async list(filter: ${E}Filter = {}): Promise<${E}Page> {
    const query = new URLSearchParams()
    if (filter.status !== undefined) query.set('status', filter.status)
    if (filter.ownerId !== undefined) query.set('owner', filter.ownerId)
    query.set('limit', String(filter.limit ?? ${g.pick([20, 50, 100])}))
    return this.http.get<${E}Page>(\`/${entity}s?\${query.toString()}\`)
  }`)
  methods.push(`  async update(id: string, patch: ${E}Patch): Promise<${E}> {
    const current = await this.get(id)
    const next = await this.http.patch<${E}>(\`/${entity}s/\${id}\`, { ...patch, version: current.id.length })
    this.cache.delete(id)
    await this.events.publish(${E}Event.Updated, { id, by: next.id })
    return next
  }`)
  if (g.rand() < 0.5) {
    g.waterfalls++
    methods.push(`  async withContext(id: string, ${dep}Id: string): Promise<{ ${entity}: ${E}; ${dep}: unknown }> {
    const ${entity} = await this.get(id)
    const ${dep} = await this.${dep}s.get(${dep}Id)
    return { ${entity}, ${dep} }
  }`)
  }
  methods.push(`  async all(filter: ${E}Filter = {}): Promise<${E}[]> {
    const out: ${E}[] = []
    let cursor: string | undefined
    do {
      const page = await this.list(cursor === undefined ? filter : { ...filter, cursor })
      out.push(...page.items)
      cursor = page.next ?? undefined
    } while (cursor !== undefined && out.length < ${g.pick([500, 1000, 5000])})
    return out
  }`)
  return `import type { HttpClient } from '../lib/http.js'
import type { EventBus } from '../lib/events.js'
import { ${E}Event, type ${E}, type ${E}Filter, type ${E}Page, type ${E}Patch } from '../types/${entity}.js'
import type { ${D}Service } from './${dep}-service.js'

/** Reads and writes ${entity}s through the ${entity} API, with a small per-instance cache. */
export class ${E}Service {
  private readonly cache = new Map<string, ${E}>()

  constructor(
    private readonly http: HttpClient,
    private readonly events: EventBus,
    private readonly ${dep}s: ${D}Service,
  ) {}

${methods.join('\n\n')}

  forget(id?: string): void {
    if (id === undefined) this.cache.clear()
    else this.cache.delete(id)
  }
}
`
}

function handler(g: Gen, entity: string, index: number): string {
  const E = cap(entity)
  const [a, b, c] = g.others(entity, 3) as [string, string, string]
  const name = `${g.pick(['get', 'show', 'load', 'render', 'fetch'])}${E}${g.pick(['Page', 'Details', 'Summary', 'View', 'Panel'])}${index}`
  const shape = g.pick([
    'waterfall',
    'waterfall3',
    'chain',
    'parallel',
    'loop',
    'auth',
    'branch',
    'try',
  ] as const)
  let body: string
  switch (shape) {
    case 'waterfall':
      g.waterfalls++
      body = `  const ${entity} = await services.${entity}s.get(req.params.id)
  const ${a} = await services.${a}s.get(req.query.${a}Id)
  res.json({ ${entity}, ${a} })`
      break
    case 'waterfall3':
      g.waterfalls++
      body = `  const ${entity} = await services.${entity}s.get(req.params.id)
  const ${a}s = await services.${a}s.list({ limit: 10 })
  const ${b} = await services.${b}s.get(req.query.${b}Id)
  res.json({ ${entity}, ${a}s: ${a}s.items, ${b}, generatedAt: new Date().toISOString() })`
      break
    case 'chain':
      body = `  const ${entity} = await services.${entity}s.get(req.params.id)
  const owner = await services.users.get(${entity}.id)
  const ${a} = await services.${a}s.get(owner.id)
  res.json({ ${entity}, owner, ${a} })`
      break
    case 'parallel':
      body = `  const [${entity}, ${a}, ${b}] = await Promise.all([
    services.${entity}s.get(req.params.id),
    services.${a}s.get(req.query.${a}Id),
    services.${b}s.list({ status: 'active' }),
  ])
  res.json({ ${entity}, ${a}, ${b}s: ${b}.items })`
      break
    case 'loop':
      body = `  const ids = String(req.query.ids ?? '').split(',').filter(Boolean)
  const ${entity}s: unknown[] = []
  for (const id of ids) {
    ${entity}s.push(await services.${entity}s.get(id))
  }
  res.json({ ${entity}s })`
      break
    case 'auth':
      body = `  const session = await services.auth.verify(req.headers.authorization ?? '')
  if (!session.roles.includes('${g.pick(['admin', 'editor', 'viewer'])}')) {
    res.status(403).json({ error: 'forbidden' })
    return
  }
  const [${entity}, ${c}] = await Promise.all([services.${entity}s.get(req.params.id), services.${c}s.list({ ownerId: session.userId })])
  res.json({ ${entity}, ${c}s: ${c}.items })`
      break
    case 'branch':
      body = `  const ${entity} = await services.${entity}s.get(req.params.id)
  if (${entity}.id.startsWith('${entity.slice(0, 2)}_')) {
    const ${a} = await services.${a}s.get(${entity}.id)
    res.json({ ${entity}, ${a} })
    return
  }
  const fallback = await services.${b}s.list({ limit: ${g.int(1, 25)} })
  res.json({ ${entity}, related: fallback.items.slice(0, ${g.int(2, 9)}) })`
      break
    case 'try':
      body = `  try {
    const ${entity} = await services.${entity}s.update(req.params.id, req.body as ${E}Patch)
    await services.audit.record({ action: 'update', target: ${entity}.id, at: Date.now() })
    res.json(${entity})
  } catch (error) {
    log.warn('update failed', { id: req.params.id, error })
    res.status(error instanceof NotFound ? 404 : 500).json({ error: String(error) })
  }`
      break
  }
  return `/** ${cap(shape)} handler for ${entity}s. */
export async function ${name}(req: Request, res: Response, services: Services): Promise<void> {
${body}
}`
}

function routeFile(g: Gen, entity: string, count: number, offset: number): string {
  const E = cap(entity)
  const handlers: string[] = []
  for (let i = 0; i < count; i++) handlers.push(handler(g, entity, offset + i))
  return `import type { Request, Response } from '../lib/http.js'
import type { Services } from '../services/index.js'
import { log, NotFound } from '../lib/log.js'
import type { ${E}Patch } from '../types/${entity}.js'

${handlers.join('\n\n')}

export const ${entity}Routes${offset} = [
${handlers.map((h) => `  '${/function (\w+)/.exec(h)![1]}',`).join('\n')}
] as const
`
}

function utilFile(g: Gen, n: number): string {
  const fns: string[] = []
  for (let i = 0; i < g.int(4, 7); i++) {
    fns.push(
      g.pick([
        `export function chunk${n}_${i}<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size))
  return out
}`,
        `export function formatMoney${n}_${i}(cents: number, currency = 'EUR'): string {
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(cents)
  return \`\${sign}\${Math.floor(abs / 100)}.\${String(abs % 100).padStart(2, '0')} \${currency}\`
}`,
        `export const slug${n}_${i} = (text: string): string =>
  text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')`,
        `export function groupBy${n}_${i}<T, K extends string>(items: readonly T[], key: (item: T) => K): Record<K, T[]> {
  const out = {} as Record<K, T[]>
  for (const item of items) {
    const k = key(item)
    ;(out[k] ??= []).push(item)
  }
  return out
}`,
        `export async function retry${n}_${i}<T>(fn: () => Promise<T>, attempts = ${g.int(2, 5)}): Promise<T> {
  let last: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn()
    } catch (error) {
      last = error
      await new Promise((resolve) => setTimeout(resolve, 2 ** i * ${g.pick([50, 100, 200])}))
    }
  }
  throw last
}`,
      ]),
    )
  }
  return `/** Small helpers (${n}). */\n\n${fns.join('\n\n')}\n`
}

function componentFile(g: Gen, entity: string): string {
  const E = cap(entity)
  const [a] = g.others(entity, 1) as [string]
  const waterfall = g.rand() < 0.5
  if (waterfall) g.waterfalls++
  const load = waterfall
    ? `      const ${entity} = await api.get${E}(id)
      const ${a} = await api.get${cap(a)}(${a}Id)
      if (!cancelled) setState({ ${entity}, ${a} })`
    : `      const [${entity}, ${a}] = await Promise.all([api.get${E}(id), api.get${cap(a)}(${a}Id)])
      if (!cancelled) setState({ ${entity}, ${a} })`
  return `import { useEffect, useState } from 'react'
import { api } from '../lib/api.js'

interface Props {
  readonly id: string
  readonly ${a}Id: string
}

export function ${E}Card({ id, ${a}Id }: Props) {
  const [state, setState] = useState<{ ${entity}: unknown; ${a}: unknown } | null>(null)
  useEffect(() => {
    let cancelled = false
    void (async () => {
${load}
    })()
    return () => {
      cancelled = true
    }
  }, [id, ${a}Id])
  if (state === null) return <p className="loading">Loading ${entity}…</p>
  return (
    <section className="${entity}-card">
      <h2>{String((state.${entity} as { id: string }).id)}</h2>
      <pre>{JSON.stringify(state.${a}, null, 2)}</pre>
    </section>
  )
}
`
}

const countLines = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0)

/** Writes the corpus under `dir` (which should be empty) and describes it. */
export async function generateCorpus(
  dir: string,
  seed: number,
  targetLines = 10_000,
): Promise<Corpus> {
  const g = new Gen(seed)
  const files = new Map<string, string>()
  let lines = 0
  const add = (path: string, text: string): void => {
    files.set(path, text)
    lines += countLines(text)
  }
  let round = 0
  while (lines < targetLines) {
    const entity = ENTITIES[round % ENTITIES.length]!
    const suffix = round < ENTITIES.length ? '' : `-${Math.floor(round / ENTITIES.length)}`
    if (round < ENTITIES.length) {
      add(`src/types/${entity}.ts`, typesFile(g, entity))
      add(`src/services/${entity}-service.ts`, serviceFile(g, entity))
    }
    if (lines >= targetLines) break
    add(`src/routes/${entity}${suffix}.ts`, routeFile(g, entity, g.int(4, 8), round * 10))
    if (lines >= targetLines) break
    if (round % 3 === 0) add(`src/components/${entity}${suffix}-card.tsx`, componentFile(g, entity))
    if (round % 4 === 1 && lines < targetLines)
      add(`src/utils/util-${round}.ts`, utilFile(g, round))
    round++
  }
  for (const [path, text] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  // What a linter must skip.
  await writeFile(join(dir, '.gitignore'), 'generated/\n*.log\n')
  await mkdir(join(dir, 'generated'), { recursive: true })
  await writeFile(join(dir, 'generated', 'client.ts'), files.values().next().value ?? '')
  await mkdir(join(dir, 'node_modules', 'some-lib'), { recursive: true })
  await writeFile(
    join(dir, 'node_modules', 'some-lib', 'index.js'),
    'export async function f(a, b) {\n  const x = await a()\n  const y = await b()\n  return [x, y]\n}\n',
  )
  return {
    dir,
    files: [...files.keys()].map((path) => join(dir, path)).sort(),
    lines,
    waterfalls: g.waterfalls,
  }
}
