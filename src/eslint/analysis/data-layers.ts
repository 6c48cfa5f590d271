/**
 * Well-known data layers, recognised by the shape of their calls rather than by the last method's
 * name. In `db.select().from(users).where(…)` (Drizzle), `supabase.from('t').select().eq(…)`,
 * `db.selectFrom('t').selectAll().executeTakeFirst()` (Kysely), `knex('t').where(…).first()` or
 * `User.findById(id).lean()` (Mongoose) the last call says nothing (`where`, `eq`, `execute`,
 * `lean`). What a chain does is decided by the first step from its root that means something
 * (`select`, `selectFrom`, `findById`), unless any step writes (`update(t).set(v)`,
 * `from('t').delete()`). Also recognised: SQL text (`sql\`SELECT …\``, `pool.query('SELECT …')`,
 * Prisma's `$queryRaw`), HTTP clients by method (fetch, axios, got, ky, ofetch, undici's
 * `request`) and AWS SDK v3 commands (`s3.send(new GetObjectCommand(…))`).
 */
import { memberName, unwrapTs, type AnyNode } from './node.js'
import { classifyName, OR_THROW, type Effect } from './words.js'

/** One step of a chain from its root: a property read (`user` in `db.user`) or a call. */
interface Step {
  readonly name: string
  readonly called: boolean
  /** The call, for a called step. */
  readonly node: AnyNode | null
}

/** Steps that refine or run a query without saying what it does (some would read as gates or writes by name). */
const NEUTRAL_STEPS = new Set([
  'execute',
  'executeTakeFirst',
  'executeTakeFirstOrThrow',
  'exec',
  'is',
  'limit',
  'returning',
  'createQueryBuilder',
  'getRepository',
  'collection',
  'promise',
])
/** Steps that read, beyond what their names say: Knex's `first`/`pluck`, SQLite's `all`. */
const READ_STEPS = new Set(['first', 'pluck', 'all'])
/** Functions that make HTTP requests, GET unless told otherwise. */
const HTTP_FUNCTIONS = new Set(['fetch', 'axios', 'got', 'ky', 'ofetch', '$fetch'])
/** Packages whose default or named exports make HTTP requests (`import { request } from 'undici'`). */
const HTTP_PACKAGES = new Set([
  'undici',
  'axios',
  'got',
  'ky',
  'ofetch',
  'node-fetch',
  'cross-fetch',
  'ky-universal',
])

/** `db.select().from(t)` → root `db`, steps select(), from(); `knex('t').first()` → root call `knex`. */
function chainOf(call: AnyNode): { root: AnyNode; rootCall: AnyNode | null; steps: Step[] } {
  const steps: Step[] = []
  let n = unwrapTs(call)
  for (;;) {
    if (n.type === 'CallExpression' || n.type === 'TaggedTemplateExpression') {
      const callee = unwrapTs((n.type === 'CallExpression' ? n['callee'] : n['tag']) as AnyNode)
      if (callee.type !== 'MemberExpression') {
        steps.unshift({ name: identifierName(callee), called: true, node: n })
        return { root: callee, rootCall: n, steps }
      }
      steps.unshift({ name: memberName(callee), called: true, node: n })
      n = unwrapTs(callee['object'] as AnyNode)
    } else if (n.type === 'MemberExpression') {
      steps.unshift({ name: memberName(n), called: false, node: null })
      n = unwrapTs(n['object'] as AnyNode)
    } else {
      return { root: n, rootCall: null, steps }
    }
  }
}

function identifierName(n: AnyNode): string {
  return n.type === 'Identifier' ? (n['name'] as string) : ''
}

/** What one step says: 'neutral' when nothing we can rely on. */
function stepEffect(step: Step): Effect | 'neutral' {
  if (!step.called) return classifyName(step.name) === 'gate' ? 'gate' : 'neutral'
  if (NEUTRAL_STEPS.has(step.name)) return 'neutral'
  if (READ_STEPS.has(step.name)) return 'read'
  const effect = classifyName(step.name)
  return effect === 'unknown' ? 'neutral' : effect
}

/** The first step that means something decides, unless a later one writes. */
function stepsEffect(steps: readonly Step[]): Effect {
  let effect: Effect | null = null
  for (const step of steps) {
    const e = stepEffect(step)
    if (e === 'write' || e === 'transaction') return e
    if (effect !== null || e === 'neutral') continue
    effect = e
  }
  return effect ?? 'unknown'
}

/** SELECT (not INTO, not FOR UPDATE, no sequence or lock functions) reads; DML and DDL write. */
export function sqlEffect(sql: string): Effect | null {
  const text = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
  if (/^\s*\(?\s*(select|with)\b/i.test(text)) {
    return /\b(insert|update|delete|merge|into|for\s+(update|share|no\s+key)|nextval|setval|pg_advisory\w*|lock)\b/i.test(
      text,
    )
      ? 'unknown'
      : 'read'
  }
  if (
    /^\s*(insert|update|delete|merge|upsert|replace|create|drop|alter|truncate|call|copy|grant|revoke|lock|begin|commit|rollback|vacuum|refresh)\b/i.test(
      text,
    )
  )
    return 'write'
  return null
}

/** The SQL text of a tagged template or a call's first argument, when it is written out. */
function sqlText(call: AnyNode): string | null {
  const quasiText = (t: AnyNode): string =>
    (t['quasis'] as AnyNode[]).map((q) => (q['value'] as { raw: string }).raw).join('?')
  if (call.type === 'TaggedTemplateExpression') return quasiText(call['quasi'] as AnyNode)
  if (call.type !== 'CallExpression') return null
  const first = (call['arguments'] as AnyNode[])[0]
  if (!first) return null
  const arg = unwrapTs(first)
  if (arg.type === 'Literal' && typeof arg['value'] === 'string') return arg['value']
  if (arg.type === 'TemplateLiteral') return quasiText(arg)
  if (arg.type === 'TaggedTemplateExpression') return quasiText(arg['quasi'] as AnyNode)
  return null
}

/**
 * GraphQL: a document written out in a `gql`/`graphql` template as the first argument
 * (`client.request(gql\`query …\`)`) reads unless it is a mutation; Apollo's
 * `client.query({ query })` always reads (its writes are `client.mutate`).
 */
function graphqlEffect(call: AnyNode, last: string): Effect | null {
  if (call.type !== 'CallExpression') return null
  const first = (call['arguments'] as AnyNode[])[0]
  const arg = first ? unwrapTs(first) : null
  if (!arg) return null
  if (last === 'query' && arg.type === 'ObjectExpression') {
    const keys = (arg['properties'] as AnyNode[]).map(
      (p) => (p['key'] as AnyNode | undefined)?.['name'],
    )
    if (keys.includes('query')) return 'read'
  }
  if (arg.type !== 'TaggedTemplateExpression') return null
  if (!['gql', 'graphql'].includes(identifierName(unwrapTs(arg['tag'] as AnyNode)))) return null
  const text = (((arg['quasi'] as AnyNode)['quasis'] as AnyNode[])[0]?.['value'] as { raw: string })
    .raw
  if (/^\s*(query\b|\{)/.test(text)) return 'read'
  if (/^\s*(mutation|subscription)\b/.test(text)) return 'write'
  return null
}

/** Octokit-style routes: `octokit.request('GET /repos/{owner}/{repo}', …)`. */
function routeEffect(call: AnyNode): Effect | null {
  if (call.type !== 'CallExpression') return null
  const first = (call['arguments'] as AnyNode[])[0]
  const arg = first ? unwrapTs(first) : null
  if (arg?.type !== 'Literal' || typeof arg['value'] !== 'string') return null
  const method = /^(GET|HEAD|POST|PUT|PATCH|DELETE) \//.exec(arg['value'])?.[1]
  if (!method) return null
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write'
}

/** `fetch(url, { method: 'POST' })`, `axios({ url, method })`: GET and HEAD read, anything else writes, an init we cannot see is unknown. */
export function httpMethodEffect(call: AnyNode): Effect {
  const args = call['arguments'] as AnyNode[]
  for (const [i, a] of args.entries()) {
    const arg = unwrapTs(a)
    if (arg.type === 'SpreadElement') return 'unknown'
    if (arg.type !== 'ObjectExpression') {
      if (i === 0) continue // the URL
      return 'unknown'
    }
    for (const p of arg['properties'] as AnyNode[]) {
      if (p.type !== 'Property') return 'unknown'
      const key = p['key'] as AnyNode
      if ((key.type === 'Identifier' ? key['name'] : key['value']) !== 'method') continue
      const v = unwrapTs(p['value'] as AnyNode)
      if (
        v.type === 'Literal' &&
        typeof v['value'] === 'string' &&
        /^(get|head)$/i.test(v['value'])
      )
        continue
      return 'write'
    }
  }
  return 'read'
}

/** AWS SDK v3: `client.send(new GetObjectCommand(…))` is what the command's name says. */
function commandEffect(call: AnyNode): Effect | null {
  const arg = (call['arguments'] as AnyNode[])[0]
  const command = arg ? unwrapTs(arg) : null
  if (command?.type !== 'NewExpression') return null
  const name = identifierName(unwrapTs(command['callee'] as AnyNode))
  const match = /^(?:Batch)?(\w+?)Command$/.exec(name)
  if (!match) return null
  if (/^(Query|Scan|Select|ExecuteStatement)$/.test(match[1]!)) return 'read'
  const effect = classifyName(match[1]!)
  return effect === 'unknown' ? null : effect
}

/** Local names bound to HTTP client packages, per module (`import request from 'undici'`). */
const httpImports = new WeakMap<AnyNode, ReadonlySet<string>>()

function httpNames(node: AnyNode): ReadonlySet<string> {
  let program: AnyNode = node
  while (program.parent) program = program.parent
  let names = httpImports.get(program)
  if (!names) {
    const found = new Set<string>()
    for (const stmt of (program['body'] as AnyNode[] | undefined) ?? []) {
      if (stmt.type !== 'ImportDeclaration') continue
      if (!HTTP_PACKAGES.has((stmt['source'] as AnyNode)['value'] as string)) continue
      for (const s of stmt['specifiers'] as AnyNode[])
        found.add(identifierName(s['local'] as AnyNode))
    }
    names = found
    httpImports.set(program, names)
  }
  return names
}

export interface ChainClass {
  readonly effect: Effect
  /** A step is an `*OrThrow` / `*OrFail` read: it may act as a check. */
  readonly orThrow: boolean
}

/** Classify a call (or tagged template) by its data layer, else by its steps' names (`unknown` when nothing says). */
export function classifyChain(call: AnyNode): ChainClass {
  const { root, rootCall, steps } = chainOf(call)
  const orThrow = steps.some((s) => s.called && OR_THROW.test(s.name))
  const sql = sqlText(call)
  const bySql = sql === null ? null : sqlEffect(sql)
  if (bySql) return { effect: bySql, orThrow }
  const byGraphql = graphqlEffect(call, steps[steps.length - 1]?.name ?? '')
  if (byGraphql) return { effect: byGraphql, orThrow }
  const byRoute = routeEffect(call)
  if (byRoute) return { effect: byRoute, orThrow }
  if (steps[steps.length - 1]?.name === 'send' && call.type === 'CallExpression') {
    const byCommand = commandEffect(call)
    if (byCommand) return { effect: byCommand, orThrow }
  }
  // `got(url).json()`, `ky(url)`, `request(url)` from undici: the root call is the request, its
  // method decides; a later step can still write (`ky(url, opts).post`-like shapes are rare).
  // `undici.request(url)`, `axios.request({ url })`: the same, one step in.
  const rootName = identifierName(root)
  const client =
    HTTP_FUNCTIONS.has(rootName) || rootName === 'undici' || httpNames(call).has(rootName)
  const request =
    rootCall?.type === 'CallExpression'
      ? rootCall
      : ['request', 'fetch'].includes(steps[0]?.name ?? '') &&
          steps[0]?.node?.type === 'CallExpression'
        ? steps[0].node
        : null
  if (client && request) {
    const byMethod = httpMethodEffect(request)
    const rest = stepsEffect(steps.slice(1))
    return { effect: byMethod === 'read' && rest === 'write' ? 'write' : byMethod, orThrow }
  }
  return { effect: stepsEffect(steps), orThrow }
}
