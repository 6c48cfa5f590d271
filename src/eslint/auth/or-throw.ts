/**
 * When a read that throws when nothing matches (`findUniqueOrThrow`, `executeTakeFirstOrThrow`,
 * `findOneOrFail`, …) is the check in front of the calls beside it, for
 * `fanout/no-parallel-auth`.
 *
 * Such a read is usually data: `Promise.all([prisma.user.findUniqueOrThrow(…),
 * prisma.team.findFirstOrThrow(…)])` with both results shown is a correct parallel fetch. It is a
 * check only when it acts as one:
 * - its result is discarded, never read, or only tested; or it pairs a resource id with an owner
 *   key (`{ id, ownerId: userId }`) and its result is read for nothing but its ids;
 * - and a call beside it is scoped by the same key (reads one of its filter values) or writes.
 * An ownership lookup beside a write scoped by the same key is a check whatever its result is
 * used for: the write happens even when the caller does not own the resource.
 */
import {
  calleeSegments,
  chainStrings,
  children,
  isFunction,
  propertyName,
  unwrap,
  type Node,
} from '../rule-utils.js'
import { baseCall, type AuthClassifier, type Call, type Member } from './classify.js'
import { shortLabel } from './label.js'
import type { Guard } from './report.js'
import { resultUse, type ResultUse } from './result-use.js'

/** The filter of a lookup: owner keys it names and the values (as written) of its other keys. */
export interface LookupFilter {
  owners: string[]
  keys: Set<string>
  /** The values of each owner key, as written. */
  ownerValues: Map<string, string[]>
  /** True for a membership row: a tenant paired with a person. */
  membership: boolean
}

/** Owner keys that name the person (not the tenant) in a membership row (`{ orgId, userId }`). */
const PERSON_KEY = /^(user|member|members)(Id|ID|Ids|_id)?$/

/** Decides whether `check` (an `orThrow` member) guards `others`; undefined when it is data here. */
export function orThrowGuard(
  check: Member,
  others: Member[],
  following: Node[],
  classifier: Pick<AuthClassifier, 'isWrite' | 'isOwnerKey'>,
): Guard | undefined {
  const filter = lookupFilter(check.call, classifier.isOwnerKey)
  const use: ResultUse = check.discarded
    ? 'unused'
    : check.names.length === 0
      ? 'data'
      : resultUse(check.names, following)
  const ownership = filter.owners.length > 0 && filter.keys.size > 0
  const checkOnly = use === 'unused' || use === 'tested' || (ownership && use === 'keys')
  if (!checkOnly && !ownership) return undefined
  const reasons: { member: Member; why: string }[] = []
  for (const member of others) {
    const key = sharedKey(member.call, filter.keys)
    const write = classifier.isWrite(member.call)
    const label = `\`${shortLabel(baseCall(member.call))}\``
    const scoped = key === undefined ? '' : ` scoped by the same \`${key}\``
    if (write) reasons.push({ member, why: `${label} is a write${scoped}` })
    else if (checkOnly && key !== undefined) reasons.push({ member, why: `${label} is${scoped}` })
  }
  // An ownership lookup read as data still guards a write on the same resource.
  const guarded = checkOnly ? reasons : reasons.filter((r) => r.why.includes('scoped by'))
  if (guarded.length === 0) return undefined
  const names = [...calleeSegments(check.call.callee as Node), ...chainStrings(check.call)]
  const what =
    filter.membership || [...filter.owners, ...names].some((n) => /member/i.test(n))
      ? 'membership'
      : 'ownership'
  const own = ownership ? `it checks ${what} (\`${filter.owners.join('`, `')}\`)` : ''
  const how = useReason(use, check.discarded === true)
  const why = [[own, how].filter(Boolean).join(' and '), ...guarded.map((r) => r.why)]
  return { data: guarded.map((r) => r.member), why: why.join('; ') }
}

function useReason(use: ResultUse, discarded: boolean): string {
  if (use === 'unused')
    return discarded
      ? 'its result is discarded, so it only checks'
      : 'its result is never read, so it only checks'
  if (use === 'tested') return 'its result is only tested, so it only checks'
  if (use === 'keys') return 'its result is read only for its ids'
  return ''
}

/**
 * The filter of a lookup chain: object arguments (their `where` when they have one) and
 * `.where('column', '=', value)` calls (Kysely, Knex), through every call of the chain.
 */
export function lookupFilter(call: Call, isOwnerKey: (key: string) => boolean): LookupFilter {
  const filter: LookupFilter = {
    owners: [],
    keys: new Set(),
    ownerValues: new Map(),
    membership: false,
  }
  let current: Node | undefined = call
  while (current && current.type === 'CallExpression') {
    const callee = unwrap(current.callee as Node)
    const method = callee.type === 'MemberExpression' ? propertyName(callee) : undefined
    const args = current.arguments as Node[]
    const column = args[0]
    if (
      (method === 'where' || method === 'andWhere') &&
      column?.type === 'Literal' &&
      typeof column.value === 'string'
    ) {
      const value = args.length >= 3 ? args[2] : args[1]
      addKey(filter, column.value.split('.').pop() ?? '', value, isOwnerKey)
    }
    for (const arg of args) {
      const node = unwrap(arg)
      if (node.type !== 'ObjectExpression') continue
      const where = node.properties.find(
        (p) => p.type === 'Property' && keyName(p.key as Node) === 'where',
      )
      const target = where && where.type === 'Property' ? unwrap(where.value as Node) : node
      if (target.type === 'ObjectExpression') collect(filter, target, isOwnerKey)
    }
    current = callee.type === 'MemberExpression' ? unwrap(callee.object as Node) : undefined
  }
  // A membership row pairs a tenant with a person (`{ orgId, userId }`): the tenant is the resource.
  if (filter.keys.size === 0 && filter.owners.some((o) => PERSON_KEY.test(o)))
    for (const owner of filter.owners.filter((o) => !PERSON_KEY.test(o))) {
      for (const path of filter.ownerValues.get(owner) ?? []) filter.keys.add(path)
      filter.owners.splice(filter.owners.indexOf(owner), 1)
      filter.membership = true
    }
  return filter
}

/** Walks a filter object: owner keys are noted, the values of other keys kept as resource keys. */
function collect(
  filter: LookupFilter,
  object: Node & { type: 'ObjectExpression' },
  isOwnerKey: (key: string) => boolean,
): void {
  for (const property of object.properties) {
    if (property.type !== 'Property') continue
    const value = unwrap(property.value as Node)
    const key = keyName(property.key as Node) ?? ''
    if (!isOwnerKey(key) && value.type === 'ObjectExpression') collect(filter, value, isOwnerKey)
    else if (!isOwnerKey(key) && value.type === 'ArrayExpression') {
      // `AND: [{ id }, { ownerId }]`
      for (const element of value.elements) {
        const item = element ? unwrap(element as Node) : undefined
        if (item?.type === 'ObjectExpression') collect(filter, item, isOwnerKey)
      }
    } else addKey(filter, key, value, isOwnerKey)
  }
}

function addKey(
  filter: LookupFilter,
  key: string,
  value: Node | undefined,
  isOwnerKey: (key: string) => boolean,
): void {
  if (!value) return
  const paths = readPaths(value)
  if (paths.length === 0) return // a literal (`deletedAt: null`, `include: { members: true }`)
  if (isOwnerKey(key)) {
    if (!filter.owners.includes(key)) filter.owners.push(key)
    filter.ownerValues.set(key, [...(filter.ownerValues.get(key) ?? []), ...paths])
  } else for (const path of paths) filter.keys.add(path)
}

function keyName(key: Node): string | undefined {
  if (key.type === 'Identifier') return key.name
  if (key.type === 'Literal' && typeof key.value === 'string') return key.value
  return undefined
}

/** `a.b.c` for a chain of plain names, `this.x`; undefined otherwise. */
function pathOf(node: Node): string | undefined {
  const n = unwrap(node)
  if (n.type === 'Identifier') return n.name === 'undefined' ? undefined : n.name
  if (n.type === 'ThisExpression') return 'this'
  if (n.type === 'MemberExpression' && !n.computed) {
    const object = pathOf(n.object as Node)
    const name = propertyName(n)
    return object === undefined || name === undefined ? undefined : `${object}.${name}`
  }
  return undefined
}

/**
 * The widest name paths `node` reads: `projectId`, `params.id`, `params.id` in
 * `Number(params.id)`; never a property key, a member name or a callee (`Number`).
 */
function readPaths(node: Node, out: string[] = []): string[] {
  const n = unwrap(node)
  const path = pathOf(n)
  if (path !== undefined) out.push(path)
  else if (isFunction(n)) return out
  else if (n.type === 'Property') {
    if (n.computed) readPaths(n.key as Node, out)
    readPaths(n.value as Node, out)
  } else if (n.type === 'MemberExpression') {
    readPaths(n.object as Node, out)
    if (n.computed) readPaths(n.property as Node, out)
  } else if (n.type === 'CallExpression' || n.type === 'NewExpression') {
    const callee = unwrap(n.callee as Node)
    if (callee.type === 'MemberExpression') readPaths(callee.object as Node, out)
    for (const arg of n.arguments) readPaths(arg as Node, out)
  } else for (const child of children(n)) readPaths(child, out)
  return out
}

/** The first of `keys` that the call's arguments (or its chain's) read, if any. */
function sharedKey(call: Call, keys: ReadonlySet<string>): string | undefined {
  if (keys.size === 0) return undefined
  let current: Node | undefined = call
  while (current && current.type === 'CallExpression') {
    for (const arg of current.arguments as Node[]) {
      const hit = readPaths(arg).find((path) => keys.has(path))
      if (hit !== undefined) return hit
    }
    const callee = unwrap(current.callee as Node)
    current = callee.type === 'MemberExpression' ? unwrap(callee.object as Node) : undefined
  }
  return undefined
}
