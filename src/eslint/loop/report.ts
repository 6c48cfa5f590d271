/**
 * What `fanout/no-await-in-loop-independent` reports once a loop is proven independent: the
 * message naming the rewrite (`Promise.all` for a collection known to be small, `mapLimit`
 * otherwise) and, for a plain `for…of` whose results stay in place, the rewrite as a suggestion.
 */
import type { Rule } from 'eslint'
import type * as ESTree from 'estree'
import { unwrap, type Node } from '../rule-utils.js'

/** The rule's options, resolved, with the context it reports to. */
export interface LoopReporter {
  context: Rule.RuleContext
  /** Largest array literal / numeric bound treated as small. */
  smallLength: number
  concurrency: number
  /** Where the mapLimit suggestion imports it from. */
  importFrom: string
}

/** What one report is about. */
export interface LoopFinding {
  firstAwait: Node
  /** The collection or bound, as the source writes it (shortened). */
  bound: Node
  /** The `for…of` to offer a rewrite for, when it can be rewritten in place. */
  fixable?: ESTree.ForOfStatement | undefined
  /** The counter of a counting loop (`i` up to `bound`); absent for `for…of`. */
  counter?: string | undefined
}

/** Reports a proven-independent loop. */
export function reportLoop(reporter: LoopReporter, finding: LoopFinding): void {
  const items = label(reporter, finding.bound)
  const small = smallBound(reporter.smallLength, finding.bound)
  const { counter, fixable } = finding
  const collection =
    counter === undefined
      ? items
      : `Array.from({ length: ${items} }, (_, ${counter}) => ${counter})`
  const how = small
    ? `\`await Promise.all(${collection}.map(async (…) => { … }))\``
    : `fanout's \`await mapLimit(${collection}, async (…) => { … }, { concurrency: ${reporter.concurrency} })\` (the collection's size is not known to be small, so bound the concurrency rather than a bare Promise.all)`
  const suggest = fixable ? suggestions(reporter, fixable, items, small) : []
  reporter.context.report({
    node: finding.firstAwait,
    messageId: 'independent',
    data: { how },
    suggest,
  })
}

/** The rewrite of `loop` into `Promise.all(…map)` or `mapLimit(…)`. */
function suggestions(
  { context, concurrency, importFrom }: LoopReporter,
  loop: ESTree.ForOfStatement,
  items: string,
  small: boolean,
): Rule.SuggestionReportDescriptor[] {
  const sourceCode = context.sourceCode
  const left = loop.left as Node
  const pattern = left.type === 'VariableDeclaration' ? left.declarations[0]?.id : undefined
  if (!pattern) return []
  const param = sourceCode.getText(pattern)
  const iterable = sourceCode.getText(loop.right)
  const bodyText =
    loop.body.type === 'BlockStatement'
      ? sourceCode.getText(loop.body)
      : `{ ${sourceCode.getText(loop.body)} }`
  if (small) {
    const text = `await Promise.all(${iterable}.map(async (${param}) => ${bodyText}))`
    return [
      {
        messageId: 'usePromiseAll',
        data: { items },
        fix: (fixer) => fixer.replaceText(loop, text),
      },
    ]
  }
  const text = `await mapLimit(${iterable}, async (${param}) => ${bodyText}, { concurrency: ${concurrency} })`
  const inScope = hasBinding(context, loop, 'mapLimit')
  const first = sourceCode.ast.body[0]
  return [
    {
      messageId: 'useMapLimit',
      data: { items, concurrency: String(concurrency) },
      fix: (fixer) => {
        const fixes = [fixer.replaceText(loop, text)]
        if (!inScope && first)
          fixes.unshift(fixer.insertTextBefore(first, `import { mapLimit } from '${importFrom}'\n`))
        return fixes
      },
    },
  ]
}

function hasBinding(context: Rule.RuleContext, node: ESTree.Node, name: string): boolean {
  let scope: ReturnType<typeof context.sourceCode.getScope> | null =
    context.sourceCode.getScope(node)
  while (scope) {
    if (scope.set.has(name)) return true
    scope = scope.upper
  }
  return false
}

/** True for an array literal (without spreads) or a number no longer than `smallLength`. */
function smallBound(smallLength: number, node: Node): boolean {
  const n = unwrap(node)
  if (n.type === 'ArrayExpression')
    return (
      n.elements.length <= smallLength &&
      n.elements.every((e) => e !== null && e.type !== 'SpreadElement')
    )
  if (n.type === 'Literal' && typeof n.value === 'number') return n.value <= smallLength
  return false
}

function label({ context }: LoopReporter, node: Node): string {
  const text = context.sourceCode.getText(node as ESTree.Node)
  return text.length > 40 ? `${text.slice(0, 37)}…` : text
}
