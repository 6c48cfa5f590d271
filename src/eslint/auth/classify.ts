/**
 * Classification of calls for `fanout/no-parallel-auth`: which calls are auth gates, session
 * lookups, reads that throw when nothing matches (`*OrThrow`), public/request context or data
 * reads, and whether a data read carries evidence that it needs the gate (user-scoped arguments,
 * private names, a write). Names come from the rule's options (or the defaults in
 * `auth-patterns`); session calls may also be found by return type. Every answer can be explained
 * in words, since each report says why its call is treated as a check.
 */
import type { Rule } from 'eslint'
import type * as ESTree from 'estree'
import {
  DEFAULT_GATE_PATTERNS,
  DEFAULT_MUTATION_PATTERNS,
  DEFAULT_OR_THROW_PATTERNS,
  DEFAULT_OWNER_KEY_PATTERNS,
  DEFAULT_PRIVATE_PATTERNS,
  DEFAULT_PUBLIC_PATTERNS,
  DEFAULT_SCOPE_PATTERNS,
  DEFAULT_SESSION_PATTERNS,
  DEFAULT_SESSION_TYPE_PATTERNS,
  DEFAULT_TASK_PATTERNS,
} from '../auth-patterns.js'
import {
  calleeSegments,
  chainStrings,
  nameMatcher,
  propertyName,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'
import { patternFinder, segmentFinder, suffixSplitter } from './match.js'
import type { NoParallelAuthOptions } from './options.js'
import { shortLabel } from './label.js'
import { sessionTypeDetector } from './session-type.js'

export type Call = ESTree.CallExpression & Node

/** `orThrow`: a read that throws when nothing matches; a check or data depending on its use. */
export type Kind = 'gate' | 'session' | 'orThrow' | 'public' | 'data'

/** A call started beside others, with its kind and the names its result is bound to. */
export interface Member {
  call: Call
  kind: Kind
  /** Names the element's result is bound to. */
  names: string[]
  /**
   * True when the result is dropped where the call is made (`await Promise.all([check(), …])`,
   * a hole in the array pattern, `await check()` as a statement). With no names and not
   * discarded, the result goes somewhere this rule does not follow.
   */
  discarded?: boolean
}

/** Kinds that may be the check in front of data calls. */
export const isAuthKind = (kind: Kind): boolean =>
  kind === 'gate' || kind === 'session' || kind === 'orThrow'

/** Kinds that a check may guard: plain data and `*OrThrow` reads. */
export const isDataKind = (kind: Kind): boolean => kind === 'data' || kind === 'orThrow'

/** `x().then(...)`/`.catch`/`.finally` → `x()`. */
export function baseCall(call: Call): Call {
  let current = call
  for (;;) {
    const callee = unwrap(current.callee as Node)
    if (callee.type !== 'MemberExpression') return current
    const name = propertyName(callee)
    const inner = unwrap(callee.object as Node)
    if (
      (name === 'then' || name === 'catch' || name === 'finally') &&
      inner.type === 'CallExpression'
    )
      current = inner as Call
    else return current
  }
}

/** The matchers and call classifiers built from one set of rule options. */
export interface AuthClassifier {
  /** Why a callee's segments name a gate ("its name matches `verify*Token`"), if they do. */
  gateReason(segments: string[]): string | undefined
  /** Why a flow task name means "auth", if it does. */
  taskReason(name: string): string | undefined
  classify(call: Call): Kind
  /** Why `call` is a gate, a session lookup or a throwing read, in words (empty for data). */
  kindReason(call: Call): string
  /** Evidence that a data call needs the gate, in words: user-scoped arguments, private names, a write. */
  evidence(call: Call): string | undefined
  /** True when any segment of the call's chain names a write (`db.task.updateMany`, `updateTable`). */
  isWrite(call: Call): boolean
  /** True when a filter key names an owner (`ownerId`, `userId`, `tenantId`, `members`). */
  isOwnerKey(key: string): boolean
}

export function authClassifier(
  options: NoParallelAuthOptions,
  sourceCode: Rule.RuleContext['sourceCode'],
): AuthClassifier {
  const gatePattern = segmentFinder([
    ...(options.gatePatterns ?? DEFAULT_GATE_PATTERNS),
    ...(options.extraGatePatterns ?? []),
  ])
  const sessionPattern = segmentFinder([
    ...(options.sessionPatterns ?? DEFAULT_SESSION_PATTERNS),
    ...(options.extraSessionPatterns ?? []),
  ])
  const orThrowPatterns = [
    ...(options.orThrowPatterns ?? DEFAULT_OR_THROW_PATTERNS),
    ...(options.extraOrThrowPatterns ?? []),
  ]
  const orThrowPattern = segmentFinder(orThrowPatterns)
  const splitSuffix = suffixSplitter(orThrowPatterns)
  const isPublic = segmentFinder([
    ...(options.publicPatterns ?? DEFAULT_PUBLIC_PATTERNS),
    ...(options.extraPublicPatterns ?? []),
  ])
  const isPrivateName = nameMatcher([
    ...(options.privatePatterns ?? DEFAULT_PRIVATE_PATTERNS),
    ...(options.extraPrivatePatterns ?? []),
  ])
  const isScopeName = nameMatcher(options.scopePatterns ?? DEFAULT_SCOPE_PATTERNS)
  const isMutation = nameMatcher(options.mutationPatterns ?? DEFAULT_MUTATION_PATTERNS)
  const taskPattern = patternFinder(options.taskPatterns ?? DEFAULT_TASK_PATTERNS)
  const isOwnerKey = nameMatcher(options.ownerKeyPatterns ?? DEFAULT_OWNER_KEY_PATTERNS)
  const isSessionType = nameMatcher(options.sessionTypePatterns ?? DEFAULT_SESSION_TYPE_PATTERNS)
  const sessionByType = sessionTypeDetector(sourceCode, isSessionType)

  function gateReason(segments: string[]): string | undefined {
    const direct = gatePattern(segments)
    if (direct !== undefined) return nameReason(direct, segments, 'gate')
    // `getSessionOrThrow`, `requireUserOrFail`: an auth call that throws when there is no user.
    const last = segments[segments.length - 1] ?? ''
    const split = splitSuffix(last)
    if (!split) return undefined
    const stem = [...segments.slice(0, -1), split.stem]
    const auth = gatePattern(stem) ?? sessionPattern(stem)
    return auth === undefined
      ? undefined
      : `its name is an auth call (\`${auth}\`) that throws when it fails (\`${split.suffix}\`)`
  }

  function classify(rawCall: Call): Kind {
    const call = baseCall(rawCall)
    const segments = calleeSegments(call.callee as Node)
    if (segments.length === 0) return 'data'
    if (gateReason(segments) !== undefined) return 'gate'
    if (sessionPattern(segments) !== undefined) return 'session'
    if (orThrowPattern(segments) !== undefined) return 'orThrow'
    if (isPublic(segments) !== undefined) return 'public'
    if (sessionByType(call) !== undefined) return 'session'
    return 'data'
  }

  function kindReason(rawCall: Call): string {
    const call = baseCall(rawCall)
    const segments = calleeSegments(call.callee as Node)
    const gate = gateReason(segments)
    if (gate !== undefined) return gate
    const session = sessionPattern(segments)
    if (session !== undefined)
      return `it looks up the caller's ${/Membership/.test(session) ? 'membership' : 'session'} (${nameReason(session, segments, 'session')})`
    const orThrow = orThrowPattern(segments)
    if (orThrow !== undefined) return `it throws when nothing matches (\`${orThrow}\`)`
    const type = sessionByType(call)
    return type !== undefined ? `it looks up the caller's session (it returns \`${type}\`)` : ''
  }

  function evidence(rawCall: Call): string | undefined {
    const call = baseCall(rawCall)
    const label = `\`${shortLabel(call)}\``
    const segments = calleeSegments(call.callee as Node)
    if (isMutation(segments[segments.length - 1] ?? '')) return `${label} is a write`
    if (segments.some((segment) => isPrivateName(segment)))
      return `${label} is named like private data`
    const text = chainStrings(call).find((t) => isPrivateName(t))
    if (text !== undefined) return `${label} reads \`${text}\``
    const scope = scopedBy(call, isScopeName)
    return scope === undefined ? undefined : `${label} is scoped by \`${scope}\``
  }

  function isWrite(rawCall: Call): boolean {
    const segments = calleeSegments(baseCall(rawCall).callee as Node)
    // The first segment of a chain is its receiver (`db`), not an operation.
    return segments.some((s, i) => (i > 0 || segments.length === 1) && isMutation(s))
  }

  return {
    gateReason,
    taskReason: (name) => {
      const pattern = taskPattern(name)
      return pattern === undefined ? undefined : `its name matches \`${pattern}\``
    },
    classify,
    kindReason,
    evidence,
    isWrite,
    isOwnerKey,
  }
}

/** "its name matches `verify*Token`"; a regex pattern is not shown (it reads badly in a sentence). */
function nameReason(pattern: string, segments: string[], list: 'gate' | 'session'): string {
  if (!pattern.startsWith('/')) return `its name matches \`${pattern}\``
  return `its name \`${segments[segments.length - 1] ?? ''}\` matches a ${list} pattern`
}

/**
 * The first identifier in the call's arguments (and in the arguments of calls earlier in its
 * chain, `db.from('x').eq('user_id', userId)`) that scopes it to a user or request, as written
 * (`params.teamId` for a property).
 */
function scopedBy(call: Call, isScopeName: (name: string) => boolean): string | undefined {
  let found: string | undefined
  const scan = (node: Node): void =>
    walk(node, (current) => {
      if (found !== undefined) return false
      if (current.type !== 'Identifier' || !isScopeName(current.name)) return undefined
      const parent = current.parent
      found =
        parent && parent.type === 'MemberExpression' && parent.property === current
          ? calleeSegments(parent).join('.')
          : current.name
      return undefined
    })
  for (const argument of call.arguments) scan(argument as Node)
  let receiver = unwrap(call.callee as Node)
  while (receiver.type === 'MemberExpression') {
    const object = unwrap(receiver.object as Node)
    if (object.type === 'CallExpression') {
      for (const argument of object.arguments) scan(argument as Node)
      receiver = unwrap(object.callee as Node)
    } else receiver = object
  }
  return found
}
