/**
 * Whether an auth call acts as a gate for the calls beside it, for `fanout/no-parallel-auth`, and
 * why, in words:
 * - a gate call (`requireUser`, `verify*Token`, …) guards every data call beside it;
 * - a session call guards them when its result is tested later and the test aborts (throw,
 *   redirect, 401/403, a return that does not show the data), and otherwise only the data calls
 *   that carry evidence of needing it (user-scoped, private, a write);
 * - a read that throws when nothing matches guards what `orThrowGuard` says.
 */
import { calleeName, walk, type Node } from '../rule-utils.js'
import { isDataKind, type AuthClassifier, type Member } from './classify.js'
import { orThrowGuard } from './or-throw.js'
import type { Guard } from './report.js'

/** Calls that abort a request, and how a report says so. */
const ABORT_CALLS: ReadonlyMap<string, string> = new Map([
  ['redirect', 'redirects'],
  ['permanentRedirect', 'redirects'],
  ['notFound', 'answers 404'],
  ['unauthorized', 'answers 401'],
  ['forbidden', 'answers 403'],
  ['signIn', 'sends the user to sign in'],
  ['error', 'answers with an error'],
])

/** How the function aborts after testing one of `names`, or undefined when it does not. */
function usedAsGate(
  names: string[],
  following: Node[],
  dataNames: Set<string>,
): string | undefined {
  if (names.length === 0) return undefined
  for (const statement of following) {
    let how: string | undefined
    walk(statement, (node) => {
      if (how !== undefined) return false
      if (node.type !== 'IfStatement') return undefined
      const tested = new Set<string>()
      walk(node.test as Node, (n) => {
        if (n.type === 'Identifier') tested.add(n.name)
      })
      if (!names.some((name) => tested.has(name))) return undefined
      how = aborts(node.consequent as Node, dataNames)
      return undefined
    })
    if (how !== undefined) return how
  }
  return undefined
}

/**
 * How `consequent` aborts: an abort call or a 401/403 status first (the most telling), then a
 * throw, then a return of something other than the data; undefined when it does none of these.
 */
function aborts(consequent: Node, dataNames: Set<string>): string | undefined {
  let status: string | undefined
  let thrown = false
  let returned = false
  walk(consequent, (node) => {
    if (status !== undefined) return false
    if (node.type === 'ThrowStatement') thrown = true
    else if (node.type === 'CallExpression') {
      const name = calleeName(node)
      const how = name === undefined ? undefined : ABORT_CALLS.get(name)
      if (how !== undefined) status = `${how} (\`${name}()\`)`
    } else if (node.type === 'Literal' && (node.value === 401 || node.value === 403))
      status = `answers ${node.value}`
    else if (node.type === 'ReturnStatement') {
      // `return <Login />`, `return null`: aborts unless the returned value shows the data.
      let readsData = false
      if (node.argument)
        walk(
          node.argument as Node,
          (n) => {
            if (n.type === 'Identifier' && dataNames.has(n.name)) readsData = true
          },
          { intoFunctions: true },
        )
      if (!readsData) returned = true
    }
    return undefined
  })
  return status ?? (thrown ? 'throws' : returned ? 'returns without the data' : undefined)
}

/** What `auth` guards among `members` and why; undefined when it is an attribute or there is no data. */
export function guarded(
  auth: Member,
  members: Member[],
  following: Node[],
  classifier: Pick<AuthClassifier, 'kindReason' | 'evidence' | 'isWrite' | 'isOwnerKey'>,
): Guard | undefined {
  const data = members.filter((m) => m !== auth && isDataKind(m.kind))
  if (data.length === 0) return undefined
  if (auth.kind === 'orThrow') return orThrowGuard(auth, data, following, classifier)
  const kind = classifier.kindReason(auth.call)
  if (auth.kind === 'gate') return { data, why: kind }
  const dataNames = new Set(data.flatMap((m) => m.names))
  const how = usedAsGate(auth.names, following, dataNames)
  if (how !== undefined)
    return { data, why: `${kind} and its result is tested, then the function ${how}` }
  const evidence = data
    .map((member) => ({ member, why: classifier.evidence(member.call) }))
    .filter((e): e is { member: Member; why: string } => e.why !== undefined)
  if (evidence.length === 0) return undefined
  return {
    data: evidence.map((e) => e.member),
    why: [kind, ...evidence.map((e) => e.why)].join('; '),
  }
}
