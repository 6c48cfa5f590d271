/**
 * `fanout/no-parallel-auth`: an authentication or authorisation check started together with the
 * data calls it guards (`Promise.all`/`allSettled`/`race`/`any`, start-early promises, or a flow
 * `.task` that should be a `.gate`). When the check fails, the data calls have already run: reads
 * cost load and may leak through logs or caches, writes happen anyway.
 *
 * Gate vs attribute (lint-landscape §5.3, §6.3–6.4):
 * - a *gate* call (`verify*Token`, `requireUser`, `checkAccess`, `assertCan*`, `getAuthorized*`,
 *   `requireMembership`, …) is reported beside any data call that is not request context
 *   (`headers()`, `request.json()`) or clearly public (`getPublic*`);
 * - a *session* call (`getSession`, `auth`, `getAuthenticatedUser`, `getMembership`, …, or a
 *   return type named like a session when type information is available) may be an optional
 *   attribute that only shapes the output. It is reported only when its result is used as a gate
 *   afterwards (tested, then return/throw/redirect/notFound/401/403), or when a call beside it is
 *   user-scoped (its arguments read ids, tokens, the request), named like private data, or a write;
 * - a read that throws when nothing matches (`findUniqueOrThrow`, `findOneOrFail`, …) is data
 *   unless it acts as a check (see auth/or-throw.ts): a correct `Promise.all` of such reads whose
 *   results are shown is never reported.
 * Every report says why its call is treated as a check and names the calls that would run when
 * it fails.
 */
import type { Rule } from 'eslint'
import { own } from '../../core/own.js'
import type * as ESTree from 'estree'
import { authClassifier, type Call } from '../auth/classify.js'
import { checkCombinator } from '../auth/combinator.js'
import { checkFlowTask } from '../auth/flow-task.js'
import { guarded } from '../auth/gate-usage.js'
import type { NoParallelAuthOptions } from '../auth/options.js'
import type { AuthRule } from '../auth/report.js'
import { checkStartEarly } from '../auth/start-early.js'
import { promiseCombinator, type Node } from '../rule-utils.js'

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
          orThrowPatterns: stringList,
          ownerKeyPatterns: stringList,
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
          extraOrThrowPatterns: stringList,
          checkStartEarly: { type: 'boolean' },
          checkFlows: { type: 'boolean' },
        },
      },
    ],
    messages: {
      parallel:
        '{{auth}} is started together with {{data}} ({{where}}), so {{they}} run even when the check fails. {{auth}} is treated as a check because {{why}}. Await {{auth}} first, then start the data calls (or make the check a flow `.gate`).',
      startedEarly:
        '{{data}} {{is}} started before {{auth}} has finished, so {{it}} run{{s}} even when the check fails. {{auth}} is treated as a check because {{why}}. Start {{it}} after {{awaitAuth}} (or make the check a flow `.gate`).',
      flowTask:
        "Flow task '{{name}}' is treated as an auth check because {{why}}, but it is declared with `.task`, so the flow's other tasks start beside it and run even when it fails. Declare it with `.gate('{{name}}', …)`: no task starts before a gate succeeds.",
      awaitFirst:
        'Await {{auth}} first, then start {{rest}}: {{they}} only once the check has passed. A slower order (one more round trip) but a safe one: a failed check runs nothing.',
      useGate: "Declare '{{name}}' with `.gate`.",
    },
  },

  create(context) {
    const options = own(context.options[0] as NoParallelAuthOptions | undefined)
    const classifier = authClassifier(options, context.sourceCode)
    const rule: AuthRule = {
      context,
      classify: classifier.classify,
      guarded: (auth, members, following) => guarded(auth, members, following, classifier),
      reportedEarly: new Set(),
    }
    return {
      CallExpression(node) {
        const call = node as Call
        const method = promiseCombinator(call)
        if (method) checkCombinator(rule, call, method)
        else if (options.checkFlows !== false) checkFlowTask(context, classifier, call)
      },
      'BlockStatement, Program'(node: ESTree.BlockStatement | ESTree.Program) {
        if (options.checkStartEarly === false) return
        checkStartEarly(rule, node.body as Node[])
      },
    }
  },
}
