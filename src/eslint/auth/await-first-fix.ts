/**
 * The `awaitFirst` suggestion of `fanout/no-parallel-auth`: splits the auth call out of a
 * destructured `await Promise.all([...])` into its own awaited declaration before the rest.
 * Only the plain shape is offered (one declarator, array pattern without rest or annotation).
 */
import type { Rule } from 'eslint'
import type * as ESTree from 'estree'
import { callOf, statementSlot, unwrap, type Node } from '../rule-utils.js'
import type { Call, Member } from './classify.js'

/** `const [auth, a, b] = await Promise.all([verify(), f(), g()])` → `const auth = await verify()` + `const [a, b] = await Promise.all([f(), g()])`. */
export function awaitFirstFix(
  sourceCode: Rule.RuleContext['sourceCode'],
  node: Call,
  auth: Member,
  array: ESTree.ArrayExpression & Node,
): Rule.ReportFixer | undefined {
  const awaitNode = node.parent
  if (!awaitNode || awaitNode.type !== 'AwaitExpression') return undefined
  const declarator = awaitNode.parent
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
  const elements = array.elements
  if (elements.some((e) => !e || e.type === 'SpreadElement')) return undefined
  if (
    pattern.elements.length > elements.length ||
    pattern.elements.some((p) => p && p.type === 'RestElement')
  )
    return undefined
  const authIndex = elements.findIndex((e) => e && callOf(unwrap(e as Node)) === auth.call)
  if (authIndex < 0) return undefined
  const text = (n: ESTree.Node | null | undefined): string => (n ? sourceCode.getText(n) : '')
  const kind = declaration.kind
  const indent = ' '.repeat(declaration.loc?.start.column ?? 0)
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
  const semi = sourceCode.getText(declaration).trimEnd().endsWith(';') ? ';' : ''
  return (fixer) => fixer.replaceText(declaration, `${first}${semi}\n${indent}${second}${semi}`)
}
