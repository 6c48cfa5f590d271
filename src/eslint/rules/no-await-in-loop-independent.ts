/**
 * `fanout/no-await-in-loop-independent`: an `await` in a `for`, `for…of` or counter `while` loop
 * whose iterations are proven independent, so they could run concurrently. Unlike ESLint core's
 * `no-await-in-loop`, it stays silent unless independence is proven:
 *
 * - no loop-carried value: nothing declared outside the body is assigned inside it (accumulators,
 *   cursors, `last`/`prev`), except results stored into an outer array/map/object that the loop
 *   never reads (`results.push(await f(x))`, `out[i] = await f(x)`);
 * - no early exit: no `break`, `return`, `throw` or labelled `continue` in the body;
 * - no pacing: no `sleep`/`delay`/`setTimeout`/retry/poll calls, and every `await` awaits a call
 *   (awaiting an already-started promise is not a waterfall);
 * - reads only: every awaited call is named like a read (`get*`, `fetch*`, `load*`, `find*`, …),
 *   since the order of writes (migrations, same-row updates, sends under a rate limit) cannot be
 *   judged from names; transactions (`tx.*`) are never parallelised;
 * - `for await` (streams) and `for…in` are never reported.
 *
 * Suggestion only (never an auto-fix): `Promise.all(items.map(...))` when the collection is an array
 * literal or numeric bound of known small length, fanout's `mapLimit(items, fn, { concurrency })`
 * otherwise.
 */
import type { Rule } from 'eslint'
import { own } from '../../core/own.js'
import type * as ESTree from 'estree'
import {
  calleeSegments,
  isFunction,
  nameMatcher,
  patternNames,
  propertyName,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'

export interface NoAwaitInLoopIndependentOptions {
  /** Largest array literal / numeric bound treated as "small": Promise.all instead of mapLimit (default 8). */
  smallLength?: number
  /** `concurrency` written in the mapLimit suggestion (default 8). */
  concurrency?: number
  /** Replace the default read-call patterns (globs or /regex/ on the callee's last name). */
  readPatterns?: string[]
  /** Added to the read-call patterns. */
  extraReadPatterns?: string[]
  /** Replace the default pacing-call patterns (sleep, delay, retry…): a loop calling one is never reported. */
  pacingPatterns?: string[]
  /** Where the mapLimit suggestion imports it from (default 'fanout'). */
  mapLimitImport?: string
}

export const DEFAULT_READ_PATTERNS: readonly string[] = [
  '/^(get|fetch|load|read|find|list|query|lookup|resolve|retrieve|search|count|stat|download|head|describe|inspect|exists|has)([A-Z_]|$)/',
  'fetch',
  'json',
  'text',
  'arrayBuffer',
  'blob',
  'findUnique',
  'findFirst',
  'findMany',
  'findOne',
  'findById',
  'select',
]

export const DEFAULT_PACING_PATTERNS: readonly string[] = [
  '/^(sleep|delay|wait|pause|setTimeout|throttle|backoff|retry|poll|tick|yield)/i',
  '/(Sleep|Delay|Wait|Backoff|Retry|Poll)$/',
]

const TRANSACTION_RECEIVERS = new Set(['tx', 'trx', 'transaction', 'txn', 't'])
const RESULT_METHODS = new Set(['push', 'set', 'add'])

type Loop = ESTree.ForStatement | ESTree.ForOfStatement | ESTree.WhileStatement

export const noAwaitInLoopIndependent: Rule.RuleModule = {
  meta: {
    type: 'suggestion',
    hasSuggestions: true,
    docs: {
      description:
        'Suggest running loop iterations concurrently (Promise.all or mapLimit) when they are proven independent.',
      recommended: true,
    },
    schema: [
      {
        type: 'object',
        additionalProperties: false,
        properties: {
          smallLength: { type: 'integer', minimum: 0 },
          concurrency: { type: 'integer', minimum: 1 },
          readPatterns: { type: 'array', items: { type: 'string' } },
          extraReadPatterns: { type: 'array', items: { type: 'string' } },
          pacingPatterns: { type: 'array', items: { type: 'string' } },
          mapLimitImport: { type: 'string' },
        },
      },
    ],
    messages: {
      independent:
        'Each iteration of this loop waits for the previous one, but the iterations are independent (nothing one writes is read by the next, no early exit, no pacing). Run them concurrently: {{how}}.',
      usePromiseAll: 'Rewrite as `await Promise.all({{items}}.map(async (…) => { … }))`.',
      useMapLimit:
        'Rewrite as `await mapLimit({{items}}, async (…) => { … }, { concurrency: {{concurrency}} })`.',
    },
  },

  create(context) {
    const options = own(context.options[0] as NoAwaitInLoopIndependentOptions | undefined)
    const smallLength = options.smallLength ?? 8
    const concurrency = options.concurrency ?? 8
    const isRead = nameMatcher([
      ...(options.readPatterns ?? DEFAULT_READ_PATTERNS),
      ...(options.extraReadPatterns ?? []),
    ])
    const isPacing = nameMatcher(options.pacingPatterns ?? DEFAULT_PACING_PATTERNS)
    const importFrom = options.mapLimitImport ?? 'fanout'
    const sourceCode = context.sourceCode

    /** Names declared inside `body` (so written per iteration, not carried). */
    function declaredInside(body: Node): Set<string> {
      const names = new Set<string>()
      walk(
        body,
        (n) => {
          if (n.type === 'VariableDeclaration' && n.kind !== 'var')
            for (const d of n.declarations)
              for (const name of patternNames(d.id as Node)) names.add(name)
          if (isFunction(n))
            for (const p of n.params) for (const name of patternNames(p as Node)) names.add(name)
          if (n.type === 'FunctionDeclaration' && n.id) names.add(n.id.name)
          if (n.type === 'CatchClause' && n.param)
            for (const name of patternNames(n.param as Node)) names.add(name)
        },
        { intoFunctions: true },
      )
      return names
    }

    /** Identifier names read anywhere in `node` (property keys excluded). */
    function reads(node: Node, into = true): Map<string, Node[]> {
      const out = new Map<string, Node[]>()
      walk(
        node,
        (n) => {
          if (n.type !== 'Identifier') return
          const parent = n.parent
          if (
            parent &&
            parent.type === 'MemberExpression' &&
            parent.property === n &&
            !parent.computed
          )
            return
          if (
            parent &&
            parent.type === 'Property' &&
            parent.key === n &&
            !parent.computed &&
            !parent.shorthand
          )
            return
          const list = out.get(n.name) ?? []
          list.push(n)
          out.set(n.name, list)
        },
        { intoFunctions: into },
      )
      return out
    }

    /** Proves independence; returns undefined when it cannot. `counter` may only be updated by `skipUpdate`. */
    function independent(
      loop: Loop,
      body: Node,
      perIteration: Set<string>,
      header: Node[],
      skipUpdate?: Node,
    ): { firstAwait: Node } | undefined {
      let firstAwait: Node | undefined
      let ok = true
      let nestedLoopAwait = false
      walk(body, (n) => {
        if (!ok) return false
        switch (n.type) {
          case 'BreakStatement':
          case 'ReturnStatement':
          case 'ThrowStatement':
          case 'YieldExpression':
            ok = false
            return false
          case 'ContinueStatement':
            if (n.label) ok = false
            return undefined
          case 'LabeledStatement':
            ok = false
            return false
          case 'ForOfStatement':
            if (n.await) ok = false
            break
          case 'AwaitExpression': {
            const argument = unwrap(n.argument as Node)
            if (argument.type !== 'CallExpression') ok = false
            firstAwait ??= n
            break
          }
          case 'CallExpression': {
            const segments = calleeSegments(n.callee as Node)
            const last = segments[segments.length - 1] ?? ''
            if (segments.some((s) => isPacing(s))) ok = false
            if (segments.length > 1 && TRANSACTION_RECEIVERS.has(segments[0] ?? '')) ok = false
            if (n.parent && n.parent.type === 'AwaitExpression' && !isRead(last)) ok = false
            break
          }
        }
        if (
          n !== body &&
          (n.type === 'ForStatement' ||
            n.type === 'ForOfStatement' ||
            n.type === 'ForInStatement' ||
            n.type === 'WhileStatement' ||
            n.type === 'DoWhileStatement')
        ) {
          walk(n, (inner) => {
            if (inner.type === 'AwaitExpression') nestedLoopAwait = true
          })
        }
        return undefined
      })
      if (!ok || !firstAwait || nestedLoopAwait) return undefined
      // Awaits in callbacks (`items.forEach(async …)`) are not this loop's awaits.
      const inside = declaredInside(body)
      const bodyReads = reads(body)
      const headerReads = new Map<string, Node[]>()
      for (const h of header)
        for (const [name, list] of reads(h))
          headerReads.set(name, [...(headerReads.get(name) ?? []), ...list])
      let carried = false
      walk(
        body,
        (n) => {
          if (carried) return false
          if (n === skipUpdate) return false
          if (n.type === 'AssignmentExpression' || n.type === 'UpdateExpression') {
            const target = unwrap((n.type === 'AssignmentExpression' ? n.left : n.argument) as Node)
            if (
              target.type === 'Identifier' ||
              target.type === 'ArrayPattern' ||
              target.type === 'ObjectPattern'
            ) {
              for (const name of patternNames(target))
                if (!inside.has(name) && !perIteration.has(name)) carried = true
            } else if (target.type === 'MemberExpression') {
              // `out[key] = await f(x)`: fine when the loop never reads `out` otherwise.
              const root = rootName(target)
              if (root === undefined || root === 'this') carried = true
              else if (
                !inside.has(root) &&
                !perIteration.has(root) &&
                !storeOnly(root, target, bodyReads, headerReads)
              )
                carried = true
            }
          } else if (n.type === 'CallExpression') {
            const callee = unwrap(n.callee as Node)
            if (
              callee.type === 'MemberExpression' &&
              RESULT_METHODS.has(propertyName(callee) ?? '')
            ) {
              const object = unwrap(callee.object as Node)
              if (
                object.type === 'Identifier' &&
                !inside.has(object.name) &&
                !perIteration.has(object.name) &&
                !storeOnly(object.name, object, bodyReads, headerReads)
              )
                carried = true
            }
          }
          return undefined
        },
        { intoFunctions: true },
      )
      if (carried) return undefined
      void loop
      return { firstAwait }
    }

    function rootName(member: Node): string | undefined {
      let current = member
      while (current.type === 'MemberExpression') current = unwrap(current.object as Node)
      if (current.type === 'Identifier') return current.name
      if (current.type === 'ThisExpression') return 'this'
      return undefined
    }

    /** True when every read of `name` in the loop is as the store's own target (`name.push`, `name[k] =`). */
    function storeOnly(
      name: string,
      target: Node,
      bodyReads: Map<string, Node[]>,
      headerReads: Map<string, Node[]>,
    ): boolean {
      if (headerReads.has(name)) return false
      for (const id of bodyReads.get(name) ?? []) {
        const parent = id.parent
        if (!parent || parent.type !== 'MemberExpression' || parent.object !== id) return false
        const grand = parent.parent
        const isStoreCall =
          grand &&
          grand.type === 'CallExpression' &&
          grand.callee === parent &&
          RESULT_METHODS.has(propertyName(parent) ?? '')
        const isStoreAssign =
          grand &&
          grand.type === 'AssignmentExpression' &&
          grand.left === parent &&
          grand.operator === '='
        if (!isStoreCall && !isStoreAssign) return false
      }
      void target
      return true
    }

    function smallBound(node: Node | undefined): boolean {
      if (!node) return false
      const n = unwrap(node)
      if (n.type === 'ArrayExpression')
        return (
          n.elements.length <= smallLength &&
          n.elements.every((e) => e !== null && e.type !== 'SpreadElement')
        )
      if (n.type === 'Literal' && typeof n.value === 'number') return n.value <= smallLength
      return false
    }

    /** `counter`: the loop counts `counter` up to `items` (a bound, not a collection). */
    function report(
      loop: Loop,
      firstAwait: Node,
      items: string,
      small: boolean,
      fixable: ESTree.ForOfStatement | undefined,
      counter?: string,
    ): void {
      const collection =
        counter === undefined
          ? items
          : `Array.from({ length: ${items} }, (_, ${counter}) => ${counter})`
      const how = small
        ? `\`await Promise.all(${collection}.map(async (…) => { … }))\``
        : `fanout's \`await mapLimit(${collection}, async (…) => { … }, { concurrency: ${concurrency} })\` (the collection's size is not known to be small, so bound the concurrency rather than a bare Promise.all)`
      const suggest: Rule.SuggestionReportDescriptor[] = []
      if (fixable) {
        const left = fixable.left as Node
        const pattern = left.type === 'VariableDeclaration' ? left.declarations[0]?.id : undefined
        if (pattern) {
          const param = sourceCode.getText(pattern)
          const iterable = sourceCode.getText(fixable.right)
          const bodyText =
            fixable.body.type === 'BlockStatement'
              ? sourceCode.getText(fixable.body)
              : `{ ${sourceCode.getText(fixable.body)} }`
          if (small) {
            suggest.push({
              messageId: 'usePromiseAll',
              data: { items },
              fix: (fixer) =>
                fixer.replaceText(
                  fixable,
                  `await Promise.all(${iterable}.map(async (${param}) => ${bodyText}))`,
                ),
            })
          } else {
            const program = sourceCode.ast
            const inScope = hasBinding(fixable as Node, 'mapLimit')
            suggest.push({
              messageId: 'useMapLimit',
              data: { items, concurrency: String(concurrency) },
              fix: (fixer) => {
                const fixes = [
                  fixer.replaceText(
                    fixable,
                    `await mapLimit(${iterable}, async (${param}) => ${bodyText}, { concurrency: ${concurrency} })`,
                  ),
                ]
                if (!inScope) {
                  const first = program.body[0]
                  if (first)
                    fixes.unshift(
                      fixer.insertTextBefore(first, `import { mapLimit } from '${importFrom}'\n`),
                    )
                }
                return fixes
              },
            })
          }
        }
      }
      context.report({ node: firstAwait, messageId: 'independent', data: { how }, suggest })
      void loop
    }

    function hasBinding(node: Node, name: string): boolean {
      let scope: ReturnType<typeof sourceCode.getScope> | null = sourceCode.getScope(
        node as ESTree.Node,
      )
      while (scope) {
        if (scope.set.has(name)) return true
        scope = scope.upper
      }
      return false
    }

    /** `i` in `let i = 0` / `i < n` / `i++`; returns the counter name and bound. */
    function counterOf(test: Node | null | undefined): { name: string; bound: Node } | undefined {
      if (!test) return undefined
      const t = unwrap(test)
      if (t.type !== 'BinaryExpression' || (t.operator !== '<' && t.operator !== '<='))
        return undefined
      const left = unwrap(t.left as Node)
      if (left.type !== 'Identifier') return undefined
      return { name: left.name, bound: t.right as Node }
    }

    function isIncrement(node: Node | null | undefined, name: string): boolean {
      if (!node) return false
      const n = unwrap(node.type === 'ExpressionStatement' ? (node.expression as Node) : node)
      if (n.type === 'UpdateExpression')
        return (
          n.operator === '++' &&
          unwrap(n.argument as Node).type === 'Identifier' &&
          (unwrap(n.argument as Node) as ESTree.Identifier).name === name
        )
      if (n.type === 'AssignmentExpression' && n.operator === '+=') {
        const l = unwrap(n.left as Node)
        return (
          l.type === 'Identifier' &&
          l.name === name &&
          n.right.type === 'Literal' &&
          n.right.value === 1
        )
      }
      return false
    }

    function label(node: Node): string {
      const text = sourceCode.getText(node as ESTree.Node)
      return text.length > 40 ? `${text.slice(0, 37)}…` : text
    }

    return {
      ForOfStatement(node) {
        if (node.await) return
        const loop = node as ESTree.ForOfStatement & Node
        const left = loop.left as Node
        if (left.type !== 'VariableDeclaration' || left.kind === 'var') return
        const perIteration = new Set(left.declarations.flatMap((d) => patternNames(d.id as Node)))
        const proof = independent(loop, loop.body as Node, perIteration, [loop.right as Node])
        if (!proof) return
        let hasContinue = false
        let storesOutside = false
        walk(
          loop.body as Node,
          (n) => {
            if (n.type === 'ContinueStatement') hasContinue = true
            if (
              n.type === 'AssignmentExpression' &&
              unwrap(n.left as Node).type === 'MemberExpression'
            )
              storesOutside = true
            if (n.type === 'CallExpression') {
              const callee = unwrap(n.callee as Node)
              if (
                callee.type === 'MemberExpression' &&
                RESULT_METHODS.has(propertyName(callee) ?? '')
              )
                storesOutside = true
            }
          },
          { intoFunctions: true },
        )
        // The rewrite is offered only where it keeps results in place: no `continue`, no stores whose order would change.
        const fixable =
          !hasContinue &&
          !storesOutside &&
          loop.parent &&
          (loop.parent.type === 'BlockStatement' || loop.parent.type === 'Program')
            ? loop
            : undefined
        report(
          loop,
          proof.firstAwait,
          label(loop.right as Node),
          smallBound(loop.right as Node),
          fixable,
        )
      },
      ForStatement(node) {
        const loop = node as ESTree.ForStatement & Node
        const init = loop.init as Node | null
        if (
          !init ||
          init.type !== 'VariableDeclaration' ||
          init.kind !== 'let' ||
          init.declarations.length !== 1
        )
          return
        const counter = counterOf(loop.test as Node | null)
        const declared = init.declarations[0]
        if (
          !counter ||
          !declared ||
          declared.id.type !== 'Identifier' ||
          declared.id.name !== counter.name
        )
          return
        if (!isIncrement(loop.update as Node | null, counter.name)) return
        const proof = independent(loop, loop.body as Node, new Set<string>(), [counter.bound])
        if (!proof) return
        report(
          loop,
          proof.firstAwait,
          label(counter.bound),
          smallBound(counter.bound),
          undefined,
          counter.name,
        )
      },
      WhileStatement(node) {
        // Only the counter form: `while (i < n) { …; i++ }` with `i++` the last statement.
        const loop = node as ESTree.WhileStatement & Node
        const counter = counterOf(loop.test as Node)
        if (!counter || loop.body.type !== 'BlockStatement') return
        const last = loop.body.body[loop.body.body.length - 1] as Node | undefined
        if (!isIncrement(last, counter.name)) return
        const proof = independent(loop, loop.body as Node, new Set<string>(), [counter.bound], last)
        if (!proof) return
        report(
          loop,
          proof.firstAwait,
          label(counter.bound),
          smallBound(counter.bound),
          undefined,
          counter.name,
        )
      },
    }
  },
}
