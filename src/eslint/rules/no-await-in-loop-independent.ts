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
import { independent, RESULT_METHODS, type CallNames } from '../loop/independence.js'
import { reportLoop, type LoopReporter } from '../loop/report.js'
import { nameMatcher, patternNames, propertyName, unwrap, walk, type Node } from '../rule-utils.js'

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
    const rule: LoopRule = {
      context,
      smallLength: options.smallLength ?? 8,
      concurrency: options.concurrency ?? 8,
      importFrom: options.mapLimitImport ?? 'fanout',
      isRead: nameMatcher([
        ...(options.readPatterns ?? DEFAULT_READ_PATTERNS),
        ...(options.extraReadPatterns ?? []),
      ]),
      isPacing: nameMatcher(options.pacingPatterns ?? DEFAULT_PACING_PATTERNS),
    }
    return {
      ForOfStatement: (node) => checkForOf(rule, node as ESTree.ForOfStatement & Node),
      ForStatement: (node) => checkCountingFor(rule, node as ESTree.ForStatement & Node),
      WhileStatement: (node) => checkCountingWhile(rule, node as ESTree.WhileStatement & Node),
    }
  },
}

type LoopRule = LoopReporter & CallNames

/** `for (const x of items)`: reported with a rewrite when its results stay in place. */
function checkForOf(rule: LoopRule, loop: ESTree.ForOfStatement & Node): void {
  if (loop.await) return
  const left = loop.left as Node
  if (left.type !== 'VariableDeclaration' || left.kind === 'var') return
  const perIteration = new Set(left.declarations.flatMap((d) => patternNames(d.id as Node)))
  const proof = independent(loop.body as Node, perIteration, [loop.right as Node], rule)
  if (!proof) return
  const fixable =
    keepsResultsInPlace(loop.body as Node) &&
    (loop.parent?.type === 'BlockStatement' || loop.parent?.type === 'Program')
      ? loop
      : undefined
  reportLoop(rule, { firstAwait: proof.firstAwait, bound: loop.right as Node, fixable })
}

/** The rewrite is offered only where it keeps results in place: no `continue`, no stores whose order would change. */
function keepsResultsInPlace(body: Node): boolean {
  let inPlace = true
  walk(
    body,
    (n) => {
      if (n.type === 'ContinueStatement') inPlace = false
      if (n.type === 'AssignmentExpression' && unwrap(n.left as Node).type === 'MemberExpression')
        inPlace = false
      if (n.type === 'CallExpression') {
        const callee = unwrap(n.callee as Node)
        if (callee.type === 'MemberExpression' && RESULT_METHODS.has(propertyName(callee) ?? ''))
          inPlace = false
      }
    },
    { intoFunctions: true },
  )
  return inPlace
}

/** `for (let i = 0; i < n; i++)`. */
function checkCountingFor(rule: LoopRule, loop: ESTree.ForStatement & Node): void {
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
  const proof = independent(loop.body as Node, new Set<string>(), [counter.bound], rule)
  if (!proof) return
  reportLoop(rule, { firstAwait: proof.firstAwait, bound: counter.bound, counter: counter.name })
}

/** Only the counter form: `while (i < n) { …; i++ }` with `i++` the last statement. */
function checkCountingWhile(rule: LoopRule, loop: ESTree.WhileStatement & Node): void {
  const counter = counterOf(loop.test as Node)
  if (!counter || loop.body.type !== 'BlockStatement') return
  const last = loop.body.body[loop.body.body.length - 1] as Node | undefined
  if (!isIncrement(last, counter.name)) return
  const proof = independent(loop.body as Node, new Set<string>(), [counter.bound], rule, last)
  if (!proof) return
  reportLoop(rule, { firstAwait: proof.firstAwait, bound: counter.bound, counter: counter.name })
}

/** `i` in `let i = 0` / `i < n` / `i++`; returns the counter name and bound. */
function counterOf(test: Node | null | undefined): { name: string; bound: Node } | undefined {
  if (!test) return undefined
  const t = unwrap(test)
  if (t.type !== 'BinaryExpression' || (t.operator !== '<' && t.operator !== '<=')) return undefined
  const left = unwrap(t.left as Node)
  if (left.type !== 'Identifier') return undefined
  return { name: left.name, bound: t.right as Node }
}

/** `i++` or `i += 1`, alone or as a statement. */
function isIncrement(node: Node | null | undefined, name: string): boolean {
  if (!node) return false
  const n = unwrap(node.type === 'ExpressionStatement' ? (node.expression as Node) : node)
  if (n.type === 'UpdateExpression') {
    const argument = unwrap(n.argument as Node)
    return n.operator === '++' && argument.type === 'Identifier' && argument.name === name
  }
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
