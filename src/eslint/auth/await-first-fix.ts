/**
 * The `awaitFirst` suggestion of `fanout/no-parallel-auth`: splits the auth call out of a
 * destructured `await Promise.all([...])` (or one awaited as a statement) into its own awaited
 * statement before the rest. Only the plain shapes are offered (one declarator, array pattern
 * without rest or annotation). The data calls then start only after the check: one more round
 * trip, and nothing runs for a caller the check rejects.
 */
import type { Rule } from 'eslint'
import type * as ESTree from 'estree'
import { callOf, statementSlot, unwrap, type Node } from '../rule-utils.js'
import type { Call, Member } from './classify.js'

/**
 * `const [auth, a, b] = await Promise.all([verify(), f(), g()])` → `const auth = await verify()` +
 * `const [a, b] = await Promise.all([f(), g()])`; `await Promise.all([verify(), f()])` as a
 * statement → `await verify()` + `await f()`.
 */
export function awaitFirstFix(
  sourceCode: Rule.RuleContext['sourceCode'],
  node: Call,
  auth: Member,
  array: ESTree.ArrayExpression & Node,
): Rule.ReportFixer | undefined {
  const awaitNode = node.parent
  if (!awaitNode || awaitNode.type !== 'AwaitExpression') return undefined
  const elements = array.elements
  if (elements.some((e) => !e || e.type === 'SpreadElement')) return undefined
  const authIndex = elements.findIndex((e) => e && callOf(unwrap(e as Node)) === auth.call)
  if (authIndex < 0) return undefined
  const text = (n: ESTree.Node | null | undefined): string => (n ? sourceCode.getText(n) : '')
  const statement = awaitNode.parent
  if (statement && statement.type === 'ExpressionStatement') {
    if (!statementSlot(statement)) return undefined
    const rest = elements.filter((_, i) => i !== authIndex)
    const second =
      rest.length === 1
        ? `await ${text(rest[0])}`
        : `await Promise.all([${rest.map((e) => text(e)).join(', ')}])`
    return replaceWith(sourceCode, statement, `await ${text(elements[authIndex])}`, second)
  }
  const declarator = statement
  if (!declarator || declarator.type !== 'VariableDeclarator') return undefined
  const declaration = declarator.parent
  if (
    !declaration ||
    declaration.type !== 'VariableDeclaration' ||
    declaration.declarations.length !== 1
  )
    return undefined
  if (!statementSlot(declaration)) return undefined
  const pattern = declarator.id
  if (pattern.type !== 'ArrayPattern' || (pattern as { typeAnnotation?: unknown }).typeAnnotation)
    return undefined
  if (
    pattern.elements.length > elements.length ||
    pattern.elements.some((p) => p && p.type === 'RestElement')
  )
    return undefined
  const kind = declaration.kind
  const authBinding = pattern.elements[authIndex]
  const first = authBinding
    ? `${kind} ${text(authBinding)} = await ${text(elements[authIndex])}`
    : `await ${text(elements[authIndex])}`
  const rest = elements
    .map((e, i) => ({ e, p: pattern.elements[i] }))
    .filter((_, i) => i !== authIndex)
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
  return replaceWith(sourceCode, declaration, first, second)
}

/** Replaces `statement` with two statements on their own lines, keeping its indent and semicolon. */
function replaceWith(
  sourceCode: Rule.RuleContext['sourceCode'],
  statement: Node,
  first: string,
  second: string,
): Rule.ReportFixer {
  const indent = ' '.repeat(statement.loc?.start.column ?? 0)
  const semi = sourceCode.getText(statement).trimEnd().endsWith(';') ? ';' : ''
  return (fixer) => fixer.replaceText(statement, `${first}${semi}\n${indent}${second}${semi}`)
}
