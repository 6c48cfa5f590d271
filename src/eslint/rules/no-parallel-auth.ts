/**
 * `fanout/no-parallel-auth`: an authentication or authorisation check started together with the
 * data calls it guards (`Promise.all`/`allSettled`/`race`/`any`, start-early promises, or a flow
 * `.task` that should be a `.gate`). When the check fails, the data calls have already run: reads
 * cost load and may leak through logs or caches, writes happen anyway.
 *
 * Gate vs attribute (lint-landscape §5.3, §6.3–6.4):
 * - a *gate* call (`verify*Token`, `requireUser`, `checkAccess`, `assertCan*`, `*OrThrow`, …) is
 *   reported beside any data call that is not request context (`headers()`, `request.json()`) or
 *   clearly public (`getPublic*`);
 * - a *session* call (`getSession`, `auth`, `getServerSession`, `currentUser`, …, or a return type
 *   named like a session when type information is available) may be an optional attribute that only
 *   shapes the output. It is reported only when its result is used as a gate afterwards (tested,
 *   then return/throw/redirect/notFound/401/403), or when a call beside it is user-scoped (its
 *   arguments read ids, tokens, the request), named like private data, or a mutation.
 */
import type { Rule } from 'eslint'
import { own } from '../../core/own.js'
import type * as ESTree from 'estree'
import {
  DEFAULT_GATE_PATTERNS,
  DEFAULT_MUTATION_PATTERNS,
  DEFAULT_PRIVATE_PATTERNS,
  DEFAULT_PUBLIC_PATTERNS,
  DEFAULT_SCOPE_PATTERNS,
  DEFAULT_SESSION_PATTERNS,
  DEFAULT_SESSION_TYPE_PATTERNS,
  DEFAULT_TASK_PATTERNS,
} from '../auth-patterns.js'
import {
  callLabel,
  calleeName,
  calleeSegments,
  callOf,
  chainStrings,
  isFunction,
  nameMatcher,
  patternNames,
  promiseCombinator,
  propertyName,
  statementSlot,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'

type Call = ESTree.CallExpression & Node

export interface NoParallelAuthOptions {
  /** Replace the default gate patterns (calls that deny by throwing/redirecting). */
  gatePatterns?: string[]
  /** Replace the default session patterns (calls whose result may be an optional attribute). */
  sessionPatterns?: string[]
  /** Replace the default public/request-context patterns (never need a gate). */
  publicPatterns?: string[]
  /** Replace the default private-data patterns (matched on callee segments and string literals). */
  privatePatterns?: string[]
  /** Replace the default scope patterns (identifiers in arguments that scope a call to a user/request). */
  scopePatterns?: string[]
  /** Replace the default mutation patterns (callee names of writes). */
  mutationPatterns?: string[]
  /** Replace the default flow task names that mean "auth" (such a `.task` should be a `.gate`). */
  taskPatterns?: string[]
  /** Replace the default session return-type names (used only with type information). */
  sessionTypePatterns?: string[]
  /** Added to the defaults (or to the replaced list). */
  extraGatePatterns?: string[]
  extraSessionPatterns?: string[]
  extraPublicPatterns?: string[]
  extraPrivatePatterns?: string[]
  /** Check `const p = data(); await verify(); await p` (default true). */
  checkStartEarly?: boolean
  /** Check fanout flows for auth-named `.task`s (default true). */
  checkFlows?: boolean
}

const stringList = { type: 'array', items: { type: 'string' }, uniqueItems: true } as const

type Kind = 'gate' | 'session' | 'public' | 'data'

/** Matches a call by the last callee segment, or by a dotted suffix for patterns containing `.`. */
function segmentMatcher(patterns: readonly string[]): (segments: string[]) => boolean {
  const plain = nameMatcher(patterns.filter((p) => !p.includes('.') || p.startsWith('/')))
  const dotted = patterns.filter((p) => p.includes('.') && !p.startsWith('/')).map((p) => ({ parts: p.split('.').length, match: nameMatcher([p]) }))
  return (segments) => {
    const last = segments[segments.length - 1]
    if (last !== undefined && plain(last)) return true
    return dotted.some(({ parts, match }) => segments.length >= parts && match(segments.slice(-parts).join('.')))
  }
}

const ABORT_CALLS = new Set(['redirect', 'permanentRedirect', 'notFound', 'unauthorized', 'forbidden', 'signIn', 'error'])

export const noParallelAuth: Rule.RuleModule = {
  meta: {
    type: 'problem',
    hasSuggestions: true,
    docs: {
      description:
        'Disallow starting an authentication/authorisation check together with the data calls it guards (Promise.all, start-early promises, flow tasks that should be gates).',
      recommended: true,
    },
    schema: [
      {
        type: 'object',
        additionalProperties: false,
        properties: {
          gatePatterns: stringList,
          sessionPatterns: stringList,
          publicPatterns: stringList,
          privatePatterns: stringList,
          scopePatterns: stringList,
          mutationPatterns: stringList,
          taskPatterns: stringList,
          sessionTypePatterns: stringList,
          extraGatePatterns: stringList,
          extraSessionPatterns: stringList,
          extraPublicPatterns: stringList,
          extraPrivatePatterns: stringList,
          checkStartEarly: { type: 'boolean' },
          checkFlows: { type: 'boolean' },
        },
      },
    ],
    messages: {
      parallel:
        '{{auth}} is started together with {{data}} ({{where}}), so {{they}} run even when the check fails. Await {{auth}} first, then start the data calls (or make the check a flow `.gate`).',
      startedEarly:
        '{{data}} {{is}} started before {{auth}} has finished, so {{it}} run{{s}} even when the check fails. Start {{it}} after `await {{auth}}` (or make the check a flow `.gate`).',
      flowTask:
        "Flow task '{{name}}' is an auth check declared with `.task`, so the flow's other tasks start beside it and run even when it fails. Declare it with `.gate('{{name}}', …)`: no task starts before a gate succeeds.",
      awaitFirst: 'Await {{auth}} first, then start the remaining calls together.',
      useGate: "Declare '{{name}}' with `.gate`.",
    },
  },

  create(context) {
    const options = own(context.options[0] as NoParallelAuthOptions | undefined)
    const isGate = segmentMatcher([...(options.gatePatterns ?? DEFAULT_GATE_PATTERNS), ...(options.extraGatePatterns ?? [])])
    const isSession = segmentMatcher([...(options.sessionPatterns ?? DEFAULT_SESSION_PATTERNS), ...(options.extraSessionPatterns ?? [])])
    const isPublic = segmentMatcher([...(options.publicPatterns ?? DEFAULT_PUBLIC_PATTERNS), ...(options.extraPublicPatterns ?? [])])
    const isPrivateName = nameMatcher([...(options.privatePatterns ?? DEFAULT_PRIVATE_PATTERNS), ...(options.extraPrivatePatterns ?? [])])
    const isScopeName = nameMatcher(options.scopePatterns ?? DEFAULT_SCOPE_PATTERNS)
    const isMutation = nameMatcher(options.mutationPatterns ?? DEFAULT_MUTATION_PATTERNS)
    const isAuthTask = nameMatcher(options.taskPatterns ?? DEFAULT_TASK_PATTERNS)
    const isSessionType = nameMatcher(options.sessionTypePatterns ?? DEFAULT_SESSION_TYPE_PATTERNS)
    const sourceCode = context.sourceCode

    // Type information, when the project provides it (never required).
    const services = sourceCode.parserServices as
      | { program?: { getTypeChecker(): TypeChecker }; esTreeNodeToTSNodeMap?: { get(node: unknown): unknown } }
      | undefined
    const checker = services?.program && services.esTreeNodeToTSNodeMap ? services.program.getTypeChecker() : undefined

    function sessionByType(call: Call): boolean {
      if (!checker || !services?.esTreeNodeToTSNodeMap) return false
      try {
        const tsNode = services.esTreeNodeToTSNodeMap.get(call)
        let type = checker.getTypeAtLocation(tsNode)
        const awaited = checker.getAwaitedType?.(type)
        if (awaited) type = awaited
        const names = [type.aliasSymbol?.escapedName, type.getSymbol?.()?.escapedName].filter((n): n is string => typeof n === 'string')
        return names.some((name) => isSessionType(name))
      } catch {
        return false
      }
    }

    /** `x().then(...)`/`.catch`/`.finally` → `x()`. */
    function baseCall(call: Call): Call {
      let current = call
      for (;;) {
        const callee = unwrap(current.callee as Node)
        if (callee.type !== 'MemberExpression') return current
        const name = propertyName(callee)
        const inner = unwrap(callee.object as Node)
        if ((name === 'then' || name === 'catch' || name === 'finally') && inner.type === 'CallExpression') current = inner as Call
        else return current
      }
    }

    function classify(rawCall: Call): Kind {
      const call = baseCall(rawCall)
      const segments = calleeSegments(call.callee as Node)
      if (segments.length === 0) return 'data'
      if (isGate(segments)) return 'gate'
      if (isSession(segments)) return 'session'
      if (isPublic(segments)) return 'public'
      if (sessionByType(call)) return 'session'
      return 'data'
    }

    /** Evidence that a data call needs the gate: user-scoped arguments, private names, or a write. */
    function protectedData(rawCall: Call): boolean {
      const call = baseCall(rawCall)
      const segments = calleeSegments(call.callee as Node)
      const last = segments[segments.length - 1] ?? ''
      if (isMutation(last)) return true
      if (segments.some((segment) => isPrivateName(segment))) return true
      if (chainStrings(call).some((text) => isPrivateName(text))) return true
      let scoped = false
      const scan = (node: Node): void =>
        walk(node, (current) => {
          if (current.type === 'Identifier' && isScopeName(current.name)) scoped = true
        })
      for (const argument of call.arguments) scan(argument as Node)
      // Arguments of calls earlier in the chain: `db.from('x').eq('user_id', userId)`.
      let receiver = unwrap(call.callee as Node)
      while (receiver.type === 'MemberExpression') {
        const object = unwrap(receiver.object as Node)
        if (object.type === 'CallExpression') {
          for (const argument of object.arguments) scan(argument as Node)
          receiver = unwrap(object.callee as Node)
        } else receiver = object
      }
      return scoped
    }

    /** The call an element of a `Promise.all` array stands for (resolving `const p = call()`). */
    function elementCall(element: Node | null): Call | undefined {
      if (!element || element.type === 'SpreadElement') return undefined
      const node = unwrap(element)
      if (node.type === 'Identifier') {
        const init = constInit(node)
        return init && init.type === 'CallExpression' ? (init as Call) : undefined
      }
      const call = callOf(node)
      if (!call) return undefined
      const name = calleeName(call)
      if ((name === 'map' || name === 'flatMap') && call.arguments[0] && isFunction(call.arguments[0] as Node)) {
        // `ids.map((id) => getItem(id))`: the first call the callback makes.
        let first: Call | undefined
        walk((call.arguments[0] as ESTree.Function & Node).body as Node, (n) => {
          if (first) return false
          if (n.type === 'CallExpression') first = n as Call
          return undefined
        })
        return first
      }
      return call
    }

    function constInit(identifier: ESTree.Identifier & Node): Node | undefined {
      let scope: ReturnType<typeof sourceCode.getScope> | null = sourceCode.getScope(identifier as unknown as ESTree.Node)
      while (scope) {
        const variable = scope.set.get(identifier.name)
        if (variable) {
          const def = variable.defs[0]
          if (variable.defs.length !== 1 || !def || def.type !== 'Variable' || def.parent.kind !== 'const') return undefined
          const declarator = def.node as ESTree.VariableDeclarator
          if (declarator.id.type !== 'Identifier' || !declarator.init) return undefined
          return unwrap(declarator.init as Node)
        }
        scope = scope.upper
      }
      return undefined
    }

    /** True when one of `names` is tested in a later statement that then aborts (return/throw/redirect/401/403). */
    function usedAsGate(names: string[], following: Node[], dataNames: Set<string>): boolean {
      if (names.length === 0) return false
      for (const statement of following) {
        let found = false
        walk(statement, (node) => {
          if (found) return false
          if (node.type !== 'IfStatement') return undefined
          const tested = new Set<string>()
          walk(node.test as Node, (n) => {
            if (n.type === 'Identifier') tested.add(n.name)
          })
          if (!names.some((name) => tested.has(name))) return undefined
          if (aborts(node.consequent as Node, dataNames)) found = true
          return undefined
        })
        if (found) return true
      }
      return false
    }

    function aborts(consequent: Node, dataNames: Set<string>): boolean {
      let result = false
      walk(consequent, (node) => {
        if (result) return false
        if (node.type === 'ThrowStatement') result = true
        else if (node.type === 'CallExpression') {
          const name = calleeName(node)
          if (name !== undefined && ABORT_CALLS.has(name)) result = true
        } else if (node.type === 'Literal' && (node.value === 401 || node.value === 403)) result = true
        else if (node.type === 'ReturnStatement') {
          // `return <Login />`, `return null`: aborts unless the returned value shows the data.
          let readsData = false
          if (node.argument)
            walk(node.argument as Node, (n) => {
              if (n.type === 'Identifier' && dataNames.has(n.name)) readsData = true
            }, { intoFunctions: true })
          if (!readsData) result = true
        }
        return undefined
      })
      return result
    }

    interface Member {
      call: Call
      kind: Kind
      /** Names the element's result is bound to. */
      names: string[]
    }

    /** Decides which data calls make `auth` a gate here; empty when it is an attribute or there is no data. */
    function guarded(auth: Member, members: Member[], following: Node[]): Member[] {
      const data = members.filter((m) => m.kind === 'data')
      if (data.length === 0) return []
      if (auth.kind === 'gate') return data
      const dataNames = new Set(data.flatMap((m) => m.names))
      if (usedAsGate(auth.names, following, dataNames)) return data
      return data.filter((m) => protectedData(m.call))
    }

    function list(members: Member[]): string {
      const labels = members.map((m) => `\`${callLabel(baseCall(m.call))}\``)
      if (labels.length <= 1) return labels.join('')
      return `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1] ?? ''}`
    }

    function followingStatements(node: Node): Node[] {
      let current: Node | null | undefined = node
      while (current) {
        const slot = statementSlot(current)
        if (slot) return slot.list.slice(slot.index + 1)
        if (isFunction(current)) return []
        current = current.parent
      }
      return []
    }

    function checkCombinator(node: Call, method: string): void {
      const array = node.arguments[0]
      if (!array || array.type !== 'ArrayExpression') return
      // Bindings: `const [a, b] = await Promise.all([...])`.
      let pattern: Node | undefined
      let parent = node.parent
      while (parent && (parent.type === 'AwaitExpression' || (parent.type as string) === 'TSAsExpression' || (parent.type as string) === 'TSNonNullExpression')) parent = parent.parent
      if (parent && parent.type === 'VariableDeclarator' && parent.id.type === 'ArrayPattern') pattern = parent.id as Node
      const members: Member[] = []
      array.elements.forEach((element, index) => {
        const call = elementCall(element as Node | null)
        if (!call) return
        const bound = pattern && pattern.type === 'ArrayPattern' ? pattern.elements[index] : undefined
        members.push({ call, kind: classify(call), names: patternNames(bound as Node | undefined) })
      })
      const auths = members.filter((m) => m.kind === 'gate' || m.kind === 'session')
      if (auths.length === 0) return
      const following = followingStatements(node)
      for (const auth of auths) {
        const data = guarded(auth, members, following)
        if (data.length === 0) continue
        const authLabel = `\`${callLabel(baseCall(auth.call))}\``
        const suggest = method === 'all' && auths.length === 1 ? awaitFirstFix(node, auth, array as ESTree.ArrayExpression & Node) : undefined
        context.report({
          node: auth.call,
          messageId: 'parallel',
          data: { auth: authLabel, data: list(data), where: `in \`Promise.${method}\``, they: data.length === 1 ? 'it would' : 'they would' },
          ...(suggest ? { suggest: [{ messageId: 'awaitFirst', data: { auth: authLabel }, fix: suggest }] } : {}),
        })
        return
      }
    }

    /** `const [auth, a, b] = await Promise.all([verify(), f(), g()])` → `const auth = await verify()` + `const [a, b] = await Promise.all([f(), g()])`. */
    function awaitFirstFix(node: Call, auth: Member, array: ESTree.ArrayExpression & Node): Rule.ReportFixer | undefined {
      const awaitNode = node.parent
      if (!awaitNode || awaitNode.type !== 'AwaitExpression') return undefined
      const declarator = awaitNode.parent
      if (!declarator || declarator.type !== 'VariableDeclarator') return undefined
      const declaration = declarator.parent
      if (!declaration || declaration.type !== 'VariableDeclaration' || declaration.declarations.length !== 1) return undefined
      if (!statementSlot(declaration)) return undefined
      const pattern = declarator.id
      if (pattern.type !== 'ArrayPattern' || (pattern as { typeAnnotation?: unknown }).typeAnnotation) return undefined
      const elements = array.elements
      if (elements.some((e) => !e || e.type === 'SpreadElement')) return undefined
      if (pattern.elements.length > elements.length || pattern.elements.some((p) => p && p.type === 'RestElement')) return undefined
      const authIndex = elements.findIndex((e) => e && callOf(unwrap(e as Node)) === auth.call)
      if (authIndex < 0) return undefined
      const text = (n: ESTree.Node | null | undefined): string => (n ? sourceCode.getText(n) : '')
      const kind = declaration.kind
      const indent = ' '.repeat(declaration.loc?.start.column ?? 0)
      const authBinding = pattern.elements[authIndex]
      const first = authBinding ? `${kind} ${text(authBinding)} = await ${text(elements[authIndex])}` : `await ${text(elements[authIndex])}`
      const rest = elements.map((e, i) => ({ e, p: pattern.elements[i] })).filter((_, i) => i !== authIndex)
      let second: string
      if (rest.length === 1) {
        const only = rest[0] as { e: ESTree.Node | null; p: ESTree.Pattern | null | undefined }
        second = only.p ? `${kind} ${text(only.p)} = await ${text(only.e)}` : `await ${text(only.e)}`
      } else {
        const names = rest.map(({ p }) => text(p))
        while (names.length > 0 && names[names.length - 1] === '') names.pop()
        const call = `await Promise.all([${rest.map(({ e }) => text(e)).join(', ')}])`
        second = names.length > 0 ? `${kind} [${names.join(', ')}] = ${call}` : call
      }
      const semi = sourceCode.getText(declaration).trimEnd().endsWith(';') ? ';' : ''
      return (fixer) => fixer.replaceText(declaration, `${first}${semi}\n${indent}${second}${semi}`)
    }

    /** `const p = data(); await verify(); await p` and `const a = verify(); await data(); await a`. */
    function checkStartEarly(body: Node[]): void {
      interface Pending {
        name: string
        call: Call
        kind: Kind
        index: number
      }
      const pending: Pending[] = []
      const awaitedIdentifiers = (statement: Node): Set<string> => {
        const names = new Set<string>()
        walk(statement, (n) => {
          if (n.type === 'AwaitExpression') {
            const argument = unwrap(n.argument as Node)
            if (argument.type === 'Identifier') names.add(argument.name)
            const combinator = argument.type === 'CallExpression' ? promiseCombinator(argument) : undefined
            const first = combinator && argument.type === 'CallExpression' ? argument.arguments[0] : undefined
            if (first && first.type === 'ArrayExpression')
              for (const e of first.elements) if (e && e.type === 'Identifier') names.add(e.name)
          }
        })
        return names
      }
      const awaitedLater = (name: string, from: number): boolean => body.slice(from).some((s) => awaitedIdentifiers(s).has(name))
      body.forEach((statement, index) => {
        // 1. Record un-awaited calls bound to a const that is awaited later.
        if (statement.type === 'VariableDeclaration' && statement.kind === 'const') {
          for (const declarator of statement.declarations) {
            if (declarator.id.type !== 'Identifier' || !declarator.init) continue
            const init = unwrap(declarator.init as Node)
            if (init.type !== 'CallExpression' || promiseCombinator(init)) continue
            if (!awaitedLater(declarator.id.name, index + 1)) continue
            pending.push({ name: declarator.id.name, call: init as Call, kind: classify(init as Call), index })
          }
        }
        // 2. An await of a call in this statement, while something started earlier is still pending.
        const awaitedCalls: Call[] = []
        walk(statement, (n) => {
          if (n.type === 'AwaitExpression') {
            const call = callOf(n.argument as Node)
            if (call && !promiseCombinator(call)) awaitedCalls.push(call)
          }
        })
        const awaitedBetween = (name: string, from: number, to: number): boolean => body.slice(from, to).some((s) => awaitedIdentifiers(s).has(name))
        // Started before this statement, not awaited since, and awaited after it.
        const open = pending.filter((p) => p.index < index && !awaitedBetween(p.name, p.index + 1, index + 1) && awaitedLater(p.name, index + 1))
        const names = statement.type === 'VariableDeclaration' ? statement.declarations.flatMap((d) => patternNames(d.id as Node)) : []
        for (const call of awaitedCalls) {
          const kind = classify(call)
          if (kind === 'gate' || kind === 'session') {
            const early = open.filter((p) => p.kind === 'data').map((p) => ({ call: p.call, kind: p.kind, names: [p.name] }))
            if (early.length === 0) continue
            const data = guarded({ call, kind, names }, early, body.slice(index + 1))
            if (data.length > 0) reportEarly(call, data)
          } else if (kind === 'data') {
            // An auth promise started earlier and awaited only later: this data call runs beside it.
            for (const p of open) {
              if (p.kind !== 'gate' && p.kind !== 'session') continue
              const data = guarded({ call: p.call, kind: p.kind, names: [p.name] }, [{ call, kind, names }], body.slice(index + 1))
              if (data.length > 0) reportEarly(p.call, data)
            }
          }
        }
      })
    }

    const reported = new Set<Node>()
    function reportEarly(auth: Call, data: { call: Call }[]): void {
      if (reported.has(auth)) return
      reported.add(auth)
      const one = data.length === 1
      context.report({
        node: auth,
        messageId: 'startedEarly',
        data: { auth: callLabel(baseCall(auth)), data: list(data as Member[]), is: one ? 'is' : 'are', it: one ? 'it' : 'they', s: one ? 's' : '' },
      })
    }

    function checkFlowTask(node: Call): void {
      const callee = unwrap(node.callee as Node)
      if (callee.type !== 'MemberExpression' || propertyName(callee) !== 'task') return
      const nameArg = node.arguments[0]
      if (!nameArg || nameArg.type !== 'Literal' || typeof nameArg.value !== 'string') return
      const name = nameArg.value
      // The builder chain: methods before (receivers) and after (parents) this call.
      const before: string[] = []
      let receiver = unwrap(callee.object as Node)
      let root: Node | undefined
      while (receiver.type === 'CallExpression') {
        const inner = unwrap(receiver.callee as Node)
        if (inner.type === 'MemberExpression') {
          before.push(propertyName(inner) ?? '')
          receiver = unwrap(inner.object as Node)
        } else {
          root = receiver
          break
        }
      }
      const rootName = root && root.type === 'CallExpression' ? calleeName(root) : undefined
      if (rootName !== 'flow') return
      const after: string[] = []
      let current: Node = node
      while (current.parent && current.parent.type === 'MemberExpression' && current.parent.object === current && current.parent.parent?.type === 'CallExpression') {
        after.push(propertyName(current.parent) ?? '')
        current = current.parent.parent
      }
      const otherTasks = [...before, ...after].some((m) => m === 'task' || m === 'tasks')
      if (!otherTasks) return
      const fn = node.arguments[1] as Node | undefined
      let callsGate = false
      let readsTasks = false
      if (fn && isFunction(fn)) {
        const first = fn.params[0] as Node | undefined
        const dollar = first && first.type === 'Identifier' ? first.name : undefined
        if (first && first.type === 'ObjectPattern' && first.properties.length > 0) readsTasks = true
        walk(fn.body as Node, (n) => {
          if (n.type === 'CallExpression' && isGate(calleeSegments(n.callee as Node))) callsGate = true
          if (dollar && n.type === 'MemberExpression' && unwrap(n.object as Node).type === 'Identifier' && (unwrap(n.object as Node) as ESTree.Identifier).name === dollar) readsTasks = true
        }, { intoFunctions: true })
      }
      // A task that reads earlier tasks runs after them: it is a result, not a check in front of them.
      if (readsTasks || !(isAuthTask(name) || callsGate)) return
      const tasksBefore = before.some((m) => m === 'task' || m === 'tasks')
      context.report({
        node: callee.property,
        messageId: 'flowTask',
        data: { name },
        ...(tasksBefore ? {} : { suggest: [{ messageId: 'useGate', data: { name }, fix: (fixer: Rule.RuleFixer) => fixer.replaceText(callee.property, 'gate') }] }),
      })
    }

    return {
      CallExpression(node) {
        const call = node as Call
        const method = promiseCombinator(call)
        if (method) checkCombinator(call, method)
        else if (options.checkFlows !== false) checkFlowTask(call)
      },
      'BlockStatement, Program'(node: ESTree.BlockStatement | ESTree.Program) {
        if (options.checkStartEarly === false) return
        checkStartEarly(node.body as Node[])
      },
    }
  },
}

/** The slice of TypeScript's checker this rule uses (typed structurally: `typescript` is not a dependency here). */
interface TypeChecker {
  getTypeAtLocation(node: unknown): TsType
  getAwaitedType?(type: TsType): TsType | undefined
}
interface TsType {
  aliasSymbol?: { escapedName: unknown }
  getSymbol?(): { escapedName: unknown } | undefined
}
