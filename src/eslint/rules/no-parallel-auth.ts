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
import { authClassifier, baseCall, type Call, type Kind, type Member } from '../auth/classify.js'
import { awaitFirstFix } from '../auth/await-first-fix.js'
import { checkFlowTask } from '../auth/flow-task.js'
import { guarded as guardedBy } from '../auth/gate-usage.js'
import type { NoParallelAuthOptions } from '../auth/options.js'
import {
  callLabel,
  calleeName,
  callOf,
  isFunction,
  patternNames,
  promiseCombinator,
  statementSlot,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'

export type { NoParallelAuthOptions } from '../auth/options.js'

const stringList = { type: 'array', items: { type: 'string' }, uniqueItems: true } as const

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
    const classifier = authClassifier(options, context.sourceCode)
    const { classify, protectedData } = classifier
    const sourceCode = context.sourceCode
    // Bound once so the call sites below read as before the split.
    const guarded = (auth: Member, members: Member[], following: Node[]): Member[] =>
      guardedBy(auth, members, following, protectedData)

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
      if (
        (name === 'map' || name === 'flatMap') &&
        call.arguments[0] &&
        isFunction(call.arguments[0] as Node)
      ) {
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
      let scope: ReturnType<typeof sourceCode.getScope> | null = sourceCode.getScope(
        identifier as unknown as ESTree.Node,
      )
      while (scope) {
        const variable = scope.set.get(identifier.name)
        if (variable) {
          const def = variable.defs[0]
          if (
            variable.defs.length !== 1 ||
            !def ||
            def.type !== 'Variable' ||
            def.parent.kind !== 'const'
          )
            return undefined
          const declarator = def.node as ESTree.VariableDeclarator
          if (declarator.id.type !== 'Identifier' || !declarator.init) return undefined
          return unwrap(declarator.init as Node)
        }
        scope = scope.upper
      }
      return undefined
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
      while (
        parent &&
        (parent.type === 'AwaitExpression' ||
          (parent.type as string) === 'TSAsExpression' ||
          (parent.type as string) === 'TSNonNullExpression')
      )
        parent = parent.parent
      if (parent && parent.type === 'VariableDeclarator' && parent.id.type === 'ArrayPattern')
        pattern = parent.id as Node
      const members: Member[] = []
      array.elements.forEach((element, index) => {
        const call = elementCall(element as Node | null)
        if (!call) return
        const bound =
          pattern && pattern.type === 'ArrayPattern' ? pattern.elements[index] : undefined
        members.push({ call, kind: classify(call), names: patternNames(bound as Node | undefined) })
      })
      const auths = members.filter((m) => m.kind === 'gate' || m.kind === 'session')
      if (auths.length === 0) return
      const following = followingStatements(node)
      for (const auth of auths) {
        const data = guarded(auth, members, following)
        if (data.length === 0) continue
        const authLabel = `\`${callLabel(baseCall(auth.call))}\``
        const suggest =
          method === 'all' && auths.length === 1
            ? awaitFirstFix(sourceCode, node, auth, array as ESTree.ArrayExpression & Node)
            : undefined
        context.report({
          node: auth.call,
          messageId: 'parallel',
          data: {
            auth: authLabel,
            data: list(data),
            where: `in \`Promise.${method}\``,
            they: data.length === 1 ? 'it would' : 'they would',
          },
          ...(suggest
            ? { suggest: [{ messageId: 'awaitFirst', data: { auth: authLabel }, fix: suggest }] }
            : {}),
        })
        return
      }
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
            const combinator =
              argument.type === 'CallExpression' ? promiseCombinator(argument) : undefined
            const first =
              combinator && argument.type === 'CallExpression' ? argument.arguments[0] : undefined
            if (first && first.type === 'ArrayExpression')
              for (const e of first.elements) if (e && e.type === 'Identifier') names.add(e.name)
          }
        })
        return names
      }
      const awaitedLater = (name: string, from: number): boolean =>
        body.slice(from).some((s) => awaitedIdentifiers(s).has(name))
      body.forEach((statement, index) => {
        // 1. Record un-awaited calls bound to a const that is awaited later.
        if (statement.type === 'VariableDeclaration' && statement.kind === 'const') {
          for (const declarator of statement.declarations) {
            if (declarator.id.type !== 'Identifier' || !declarator.init) continue
            const init = unwrap(declarator.init as Node)
            if (init.type !== 'CallExpression' || promiseCombinator(init)) continue
            if (!awaitedLater(declarator.id.name, index + 1)) continue
            pending.push({
              name: declarator.id.name,
              call: init as Call,
              kind: classify(init as Call),
              index,
            })
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
        const awaitedBetween = (name: string, from: number, to: number): boolean =>
          body.slice(from, to).some((s) => awaitedIdentifiers(s).has(name))
        // Started before this statement, not awaited since, and awaited after it.
        const open = pending.filter(
          (p) =>
            p.index < index &&
            !awaitedBetween(p.name, p.index + 1, index + 1) &&
            awaitedLater(p.name, index + 1),
        )
        const names =
          statement.type === 'VariableDeclaration'
            ? statement.declarations.flatMap((d) => patternNames(d.id as Node))
            : []
        for (const call of awaitedCalls) {
          const kind = classify(call)
          if (kind === 'gate' || kind === 'session') {
            const early = open
              .filter((p) => p.kind === 'data')
              .map((p) => ({ call: p.call, kind: p.kind, names: [p.name] }))
            if (early.length === 0) continue
            const data = guarded({ call, kind, names }, early, body.slice(index + 1))
            if (data.length > 0) reportEarly(call, data)
          } else if (kind === 'data') {
            // An auth promise started earlier and awaited only later: this data call runs beside it.
            for (const p of open) {
              if (p.kind !== 'gate' && p.kind !== 'session') continue
              const data = guarded(
                { call: p.call, kind: p.kind, names: [p.name] },
                [{ call, kind, names }],
                body.slice(index + 1),
              )
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
        data: {
          auth: callLabel(baseCall(auth)),
          data: list(data as Member[]),
          is: one ? 'is' : 'are',
          it: one ? 'it' : 'they',
          s: one ? 's' : '',
        },
      })
    }

    return {
      CallExpression(node) {
        const call = node as Call
        const method = promiseCombinator(call)
        if (method) checkCombinator(call, method)
        else if (options.checkFlows !== false) checkFlowTask(context, classifier, call)
      },
      'BlockStatement, Program'(node: ESTree.BlockStatement | ESTree.Program) {
        if (options.checkStartEarly === false) return
        checkStartEarly(node.body as Node[])
      },
    }
  },
}
