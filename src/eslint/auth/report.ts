/**
 * What the checks of `fanout/no-parallel-auth` share: the context they report to, the call
 * classifier, and the wording of a list of calls in a message.
 */
import type { Rule } from 'eslint'
import type { Node } from '../rule-utils.js'
import { baseCall, type Call, type Kind, type Member } from './classify.js'
import { shortLabel } from './label.js'

/** The data calls a check guards, and why the call is treated as a check, in words. */
export interface Guard {
  data: Member[]
  why: string
}

/** One file's run of the rule. */
export interface AuthRule {
  context: Rule.RuleContext
  classify(call: Call): Kind
  /** What `auth` guards among `members` here (see `guarded` in gate-usage.ts); undefined when nothing. */
  guarded(auth: Member, members: Member[], following: Node[]): Guard | undefined
  /** Auth calls already reported as started early, so each is reported once. */
  reportedEarly: Set<Node>
}

/** "`a()`", "`a()` and `b()`", "`a()`, `b()` and `c()`". */
export function callList(members: readonly { call: Call }[]): string {
  const labels = members.map((m) => authLabel(m.call))
  if (labels.length <= 1) return labels.join('')
  return `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1] ?? ''}`
}

/** "`verify()`" for a message. */
export const authLabel = (call: Call): string => `\`${shortLabel(baseCall(call))}\``
