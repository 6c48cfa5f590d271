/**
 * `fanout/no-sequential-await`: independent awaits in one async function that run one after
 * another (a waterfall). Reports one group per finding, on its first await, with what each call
 * waits for and the estimated saving. Auto-fixes only the proven-safe shape (adjacent
 * `const|let x = await read()` declarations); everything else gets a suggestion that says what
 * would change — reads that each carry their own fallback (`try { x = await read() } catch
 * { x = value }`) included, their fallbacks moved onto the calls as `.catch`. Gates (auth, validation, `*OrThrow`, guards), writes, transactions, loops and
 * unknown calls are never reordered.
 */
import type { Rule } from 'eslint'
import { own } from '../../core/own.js'
import { calleeOf, isTransactionCallback } from '../analysis/classify.js'
import { findGroups, type Group, type Member } from '../analysis/groups.js'
import { FUNCTION_TYPES, LOOP_TYPES, rangeOf, type AnyNode } from '../analysis/node.js'
import { buildRewrite } from '../analysis/rewrite.js'

export interface NoSequentialAwaitOptions {
  /** Regular expressions matched against callee text (`cache\\.`, `^getConfig$`): such calls are never grouped. */
  readonly ignore?: readonly string[]
  /** Minimum estimated saving, in network/database round trips, for a group to be reported (default 1). */
  readonly minSaving?: number
  /** Report groups of cheap request-scoped reads (`headers()`, `request.json()`, `params`) at low priority (default true). */
  readonly reportRequestApis?: boolean
  /**
   * Your own data layer: regular expressions matched against callee text (`^api\\.load`,
   * `^cms\\.`). Matching calls are reads (may be grouped), writes or gates (never moved);
   * gates win over writes, writes over reads.
   */
  readonly reads?: readonly string[]
  readonly writes?: readonly string[]
  readonly gates?: readonly string[]
}

function label(m: Member, text: (n: AnyNode) => string): string {
  if (m.then) {
    const { then: prev, ...step } = m
    return `${label(prev, text)} → ${label(step, text)}`
  }
  const raw = m.joined
    ? `Promise.all([${m.joined.elements.map((e) => `${text(calleeOf(e))}()`).join(', ')}])`
    : m.op.call?.type === 'CallExpression'
      ? `${text(calleeOf(m.op.call))}(${shortLiteral(m.op.call, text)})`
      : text(m.op.element)
  const flat = raw.replace(/\s+/g, ' ')
  return flat.length > 48 ? `${flat.slice(0, 45)}...` : flat
}

/** A short literal first argument tells calls of one function apart: `load('queue/index.js')`. */
function shortLiteral(call: AnyNode, text: (n: AnyNode) => string): string {
  const first = (call['arguments'] as AnyNode[])[0]
  if (!first || (first.type !== 'Literal' && first.type !== 'TemplateLiteral')) return ''
  const raw = text(first)
  return raw.length <= 24 && !raw.includes('\n') ? raw : ''
}

function describeWaits(group: Group, text: (n: AnyNode) => string): string {
  const names = group.members.map((m) => `\`${label(m, text)}\``)
  return names
    .slice(1)
    .map((n, i) => `${n} waits for ${names.slice(0, i + 1).join(', ')}`)
    .join('; ')
}

export const noSequentialAwait: Rule.RuleModule = {
  meta: {
    type: 'suggestion',
    fixable: 'code',
    hasSuggestions: true,
    docs: {
      description:
        'Start independent awaited calls together with Promise.all instead of one after another',
      recommended: true,
    },
    schema: [
      {
        type: 'object',
        properties: {
          ignore: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          minSaving: { type: 'integer', minimum: 0 },
          reportRequestApis: { type: 'boolean' },
          reads: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          writes: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          gates: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      sequential:
        '{{count}} independent awaits run one after another: {{waits}}. Promise.all would save about {{saving}} round trip(s).',
      sequentialRequestApis:
        'Low priority: {{count}} independent awaits of cheap request-scoped APIs run one after another: {{waits}}. Promise.all starts them together.',
      suggestPromiseAll: 'Run them with Promise.all. What changes: {{changes}}.',
    },
  },
  create(context) {
    const options = own(context.options[0] as NoSequentialAwaitOptions | undefined)
    const minSaving = options.minSaving ?? 1
    const reportRequestApis = options.reportRequestApis ?? true
    const regexps = (list: readonly string[] | undefined): RegExp[] =>
      (list ?? []).map((p) => new RegExp(p))
    const ignore = regexps(options.ignore)
    const reads = regexps(options.reads)
    const writes = regexps(options.writes)
    const gates = regexps(options.gates)
    const sourceCode = context.sourceCode
    const text = (n: AnyNode): string => sourceCode.text.slice(...rangeOf(n))
    const keys = sourceCode.visitorKeys as Readonly<Record<string, readonly string[] | undefined>>
    let comments: AnyNode[] | null = null
    // Everything the declarator binds is read only inside `node` (its scope's references, not names).
    const usedOnlyIn = (declarator: AnyNode, node: AnyNode): boolean => {
      const [start, end] = rangeOf(node)
      return sourceCode
        .getDeclaredVariables(declarator as never)
        .every((v) =>
          v.references.every(
            (r) =>
              !r.isRead() || (r.identifier.range![0] >= start && r.identifier.range![1] <= end),
          ),
        )
    }

    function analysable(block: AnyNode): boolean {
      let n = block.parent ?? null
      while (n) {
        if (LOOP_TYPES.has(n.type)) return false
        if (FUNCTION_TYPES.has(n.type)) return n['async'] === true && !isTransactionCallback(n)
        if (n.type === 'StaticBlock' || n.type === 'Program' || n.type === 'ClassBody') return false
        n = n.parent ?? null
      }
      return false
    }

    function check(block: AnyNode): void {
      if (!analysable(block)) return
      const groups = findGroups(block['body'] as AnyNode[], {
        keys,
        ignore,
        reads,
        writes,
        gates,
        text,
        usedOnlyIn,
      })
      for (const group of groups) {
        const network = group.members.filter((m) => m.op.effect === 'read').length
        const saving = Math.max(0, network - 1)
        let messageId: 'sequential' | 'sequentialRequestApis'
        if (network >= 2) {
          if (saving < minSaving) continue
          messageId = 'sequential'
        } else {
          if (!reportRequestApis) continue
          messageId = 'sequentialRequestApis'
        }
        comments ??= sourceCode.getAllComments() as unknown as AnyNode[]
        const rewrite = buildRewrite(group, { text: sourceCode.text, comments })
        const fix = (fixer: Rule.RuleFixer): Rule.Fix =>
          fixer.replaceTextRange(rewrite.range, rewrite.text)
        let first = group.members[0]!
        while (first.then) first = first.then
        const last = group.members[group.members.length - 1]!
        // From the first await to the last: the whole group is what the finding is about.
        const loc = {
          start: (first.await['loc'] as { start: { line: number; column: number } }).start,
          end: (last.await['loc'] as { end: { line: number; column: number } }).end,
        }
        context.report({
          loc,
          messageId,
          data: {
            count: String(group.members.length),
            waits: describeWaits(group, text),
            saving: String(saving),
          },
          ...(rewrite.autoFixable
            ? { fix }
            : {
                suggest: [
                  {
                    messageId: 'suggestPromiseAll',
                    data: { changes: rewrite.changes.join('; ') },
                    fix,
                  },
                ],
              }),
        })
      }
    }

    return {
      BlockStatement(node) {
        check(node as unknown as AnyNode)
      },
    }
  },
}
