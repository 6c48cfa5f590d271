/**
 * Type-aware session detection for `fanout/no-parallel-auth`: a call whose (awaited) return type
 * is named like a session counts as a session call. Used only when the project provides type
 * information; without it every call answers undefined.
 */
import type { Rule } from 'eslint'
import type { Node } from '../rule-utils.js'

/** Returns `sessionByType(call)`: the call's awaited return type name when it matches `isSessionType`. */
export function sessionTypeDetector(
  sourceCode: Rule.RuleContext['sourceCode'],
  isSessionType: (name: string) => boolean,
): (call: Node) => string | undefined {
  // Type information, when the project provides it (never required).
  const services = sourceCode.parserServices as
    | {
        program?: { getTypeChecker(): TypeChecker }
        esTreeNodeToTSNodeMap?: { get(node: unknown): unknown }
      }
    | undefined
  const checker =
    services?.program && services.esTreeNodeToTSNodeMap
      ? services.program.getTypeChecker()
      : undefined

  return function sessionByType(call: Node): string | undefined {
    if (!checker || !services?.esTreeNodeToTSNodeMap) return undefined
    try {
      const tsNode = services.esTreeNodeToTSNodeMap.get(call)
      let type = checker.getTypeAtLocation(tsNode)
      const awaited = checker.getAwaitedType?.(type)
      if (awaited) type = awaited
      const names = [type.aliasSymbol?.escapedName, type.getSymbol?.()?.escapedName].filter(
        (n): n is string => typeof n === 'string',
      )
      return names.find((name) => isSessionType(name))
    } catch {
      return undefined
    }
  }
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
