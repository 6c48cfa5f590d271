/**
 * The flow check of `fanout/no-parallel-auth`: in a `flow(...)` builder chain with other tasks,
 * a `.task` named like auth (or calling a gate) runs beside them and should be a `.gate`. The
 * `useGate` suggestion is offered only when no task is declared before it, since moving a gate
 * ahead of tasks changes when they start.
 */
import type { Rule } from 'eslint'
import type * as ESTree from 'estree'
import {
  calleeName,
  calleeSegments,
  isFunction,
  propertyName,
  unwrap,
  walk,
  type Node,
} from '../rule-utils.js'
import type { AuthClassifier, Call } from './classify.js'

/** Reports `node` when it is an auth `.task` of a flow that has other tasks. */
export function checkFlowTask(
  context: Rule.RuleContext,
  { gateReason, taskReason }: Pick<AuthClassifier, 'gateReason' | 'taskReason'>,
  node: Call,
): void {
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
  while (
    current.parent &&
    current.parent.type === 'MemberExpression' &&
    current.parent.object === current &&
    current.parent.parent?.type === 'CallExpression'
  ) {
    after.push(propertyName(current.parent) ?? '')
    current = current.parent.parent
  }
  const otherTasks = [...before, ...after].some((m) => m === 'task' || m === 'tasks')
  if (!otherTasks) return
  const fn = node.arguments[1] as Node | undefined
  let callsGate: string | undefined
  let readsTasks = false
  if (fn && isFunction(fn)) {
    const first = fn.params[0] as Node | undefined
    const dollar = first && first.type === 'Identifier' ? first.name : undefined
    if (first && first.type === 'ObjectPattern' && first.properties.length > 0) readsTasks = true
    walk(
      fn.body as Node,
      (n) => {
        if (n.type === 'CallExpression' && callsGate === undefined) {
          const segments = calleeSegments(n.callee as Node)
          const reason = gateReason(segments)
          if (reason !== undefined) callsGate = `it calls \`${segments.join('.')}()\` and ${reason}`
        }
        if (
          dollar &&
          n.type === 'MemberExpression' &&
          unwrap(n.object as Node).type === 'Identifier' &&
          (unwrap(n.object as Node) as ESTree.Identifier).name === dollar
        )
          readsTasks = true
      },
      { intoFunctions: true },
    )
  }
  // A task that reads earlier tasks runs after them: it is a result, not a check in front of them.
  const why = taskReason(name) ?? callsGate
  if (readsTasks || why === undefined) return
  const tasksBefore = before.some((m) => m === 'task' || m === 'tasks')
  context.report({
    node: callee.property,
    messageId: 'flowTask',
    data: { name, why },
    ...(tasksBefore
      ? {}
      : {
          suggest: [
            {
              messageId: 'useGate',
              data: { name },
              fix: (fixer: Rule.RuleFixer) => fixer.replaceText(callee.property, 'gate'),
            },
          ],
        }),
  })
}
