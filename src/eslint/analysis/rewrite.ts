/**
 * The `Promise.all` rewrite of one group: `const [a, b] = await Promise.all([f(), g()])`, keeping
 * `const`/`let`, destructuring patterns, type annotations (as a tuple annotation), comments (moved
 * onto their element), and per-call `.catch(...)`; a read caught by its own try/catch becomes
 * `read().catch((e): T => fallback)` and its variable is assigned after. `autoFixable` is true only for the proven-safe
 * shape: adjacent single declarations of one kind, each `= await <call>`, nothing between.
 * Everything else becomes a suggestion, with the list of behaviour changes it implies.
 */
import { statementsOf } from './chain.js'
import type { Group, Member } from './groups.js'
import { rangeOf, type AnyNode } from './node.js'

export interface Rewrite {
  readonly range: [number, number]
  readonly text: string
  readonly autoFixable: boolean
  /** What could change if the suggestion is applied. */
  readonly changes: string[]
}

export interface SourceView {
  readonly text: string
  /** All comments, in order, with ranges. */
  readonly comments: readonly AnyNode[]
}

function annotationOf(pattern: AnyNode): AnyNode | null {
  const a = pattern['typeAnnotation']
  return a && typeof a === 'object' ? (a as AnyNode) : null
}

function patternText(pattern: AnyNode, text: string): string {
  const [s, e] = rangeOf(pattern)
  const ann = annotationOf(pattern)
  const end = ann ? rangeOf(ann)[0] : e
  let out = text.slice(s, end).trimEnd()
  // `{ x }: T` has no `?`, but an optional marker on an identifier binding cannot occur in `const`.
  if (out.endsWith('?')) out = out.slice(0, -1)
  return out
}

function annotationText(pattern: AnyNode, text: string): string {
  const ann = annotationOf(pattern)
  if (!ann) return ''
  const inner = ann['typeAnnotation'] as AnyNode | undefined
  return inner ? text.slice(...rangeOf(inner)) : text.slice(...rangeOf(ann)).replace(/^\s*:\s*/, '')
}

function within(r: [number, number], outer: [number, number]): boolean {
  return r[0] >= outer[0] && r[1] <= outer[1]
}

function lineStartOf(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1
}

function commentText(c: AnyNode): string {
  return c.type === 'Line' ? `//${c['value'] as string}` : `/*${c['value'] as string}*/`
}

function tempName(text: string, i: number): string {
  let name = `result${i + 1}`
  while (new RegExp(`\\b${name}\\b`).test(text)) name = `_${name}`
  return name
}

/** What goes into the array for one member: its call(s), with a condition or fallback it carries. */
function elementTexts(m: Member, text: string): string[] {
  if (m.joined) return m.joined.elements.map((e) => text.slice(...rangeOf(e)))
  const argument = m.await['argument'] as AnyNode
  const own = text.slice(...rangeOf(argument))
  if (m.then) {
    // `const res = await fetch(a)` + `const user = await res.json()` → `fetch(a).then((res) => res.json())`.
    const prev = elementTexts(m.then, text)[0]!
    const param = text.slice(...rangeOf(m.then.pattern))
    const body = argument.type === 'ObjectExpression' ? `(${own})` : own
    return [`${prev}.then((${param}) => ${body})`]
  }
  if (m.conditional) {
    // `cond ? await f() : null` → `cond ? f() : null`: each call still runs only under its condition.
    const [cs, ce] = rangeOf(m.conditional)
    let out = ''
    let at = cs
    for (const a of [...m.facts.awaits].sort((x, y) => rangeOf(x)[0] - rangeOf(y)[0])) {
      out += text.slice(at, rangeOf(a)[0]) + text.slice(...rangeOf(a['argument'] as AnyNode))
      at = rangeOf(a)[1]
    }
    return [out + text.slice(at, ce)]
  }
  if (!m.caught) return [own]
  const plain = ['CallExpression', 'Identifier', 'MemberExpression'].includes(argument.type)
  const param = m.caught.param ? text.slice(...rangeOf(m.caught.param)) : ''
  const fallback = text.slice(...rangeOf(m.caught.fallback))
  // An object literal after `=>` would read as a block; a sequence as two arguments.
  const value = ['ObjectExpression', 'SequenceExpression'].includes(m.caught.fallback.type)
    ? `(${fallback})`
    : fallback
  // The variable's declared type, as the return type: the fallback is checked (and its literals
  // kept narrow) against it, as the assignment in the catch block was.
  const returns = m.caught.type ? `: ${text.slice(...rangeOf(m.caught.type))}` : ''
  return [`${plain ? own : `(${own})`}.catch((${param})${returns} => ${value})`]
}

export function buildRewrite(group: Group, src: SourceView): Rewrite {
  const { members, between, hoisted } = group
  const first = members[0]!
  const last = members[members.length - 1]!
  const range: [number, number] = [rangeOf(statementsOf(first)[0]!)[0], rangeOf(last.stmt)[1]]
  const annotated = members.filter((m) => annotationOf(m.pattern) !== null).length
  const allAnnotated = annotated === members.length
  const noneAnnotated = annotated === 0
  const kind = first.kind
  // A caught member (`try { x = await f() } catch { x = v }`) gets a temporary and is assigned after.
  // An existing Promise.all's slots always go into the pattern (it is a `const`, unannotated).
  const inSlot = (m: Member): boolean =>
    m.joined !== undefined ||
    (m.caught === undefined &&
      (m.direct || m.conditional !== undefined) &&
      m.kind === kind &&
      (allAnnotated || (noneAnnotated && annotationOf(m.pattern) === null)) &&
      !m.wrapped)
  const autoFixable =
    between.length === 0 &&
    hoisted.length === 0 &&
    members.every((m) => inSlot(m) && m.conditional === undefined && m.then === undefined) &&
    (allAnnotated || noneAnnotated)
  const layout: Layout = { group, src, range, inSlot, allAnnotated }
  const text = promiseAllLines(layout, commentOwners(layout)).join('\n')
  return { range, text, autoFixable, changes: changesOf(group) }
}

/** What the parts of the rewrite share. */
interface Layout {
  readonly group: Group
  readonly src: SourceView
  /** From the first member's statement to the last's. */
  readonly range: [number, number]
  /** Whether a member's own binding goes into the destructuring (else: a temporary). */
  readonly inSlot: (m: Member) => boolean
  readonly allAnnotated: boolean
}

/** Per member, the comments that move with it: before its element, and trailing on its line. */
interface CommentOwners {
  readonly owned: Map<Member, string[]>
  readonly trailing: Map<Member, string[]>
}

/**
 * Comments outside every kept text go to the member they belong to (same statement, trailing on
 * its last line, or the next member).
 */
function commentOwners({ group, src, range, inSlot }: Layout): CommentOwners {
  const { members, between } = group
  const text = src.text
  const last = members[members.length - 1]!
  const kept: [number, number][] = [
    // A chain's earlier steps: their calls and names are kept in the element.
    ...members.flatMap((m) =>
      statementsOf(m)
        .slice(0, -1)
        .map((stmt) => rangeOf(stmt)),
    ),
    ...members.flatMap((m) =>
      m.joined
        ? m.joined.elements.map(rangeOf)
        : [rangeOf(m.conditional ?? (m.await['argument'] as AnyNode))],
    ),
    ...members.filter((m) => !inSlot(m) && m.caught === undefined).map((m) => rangeOf(m.stmt)),
    ...members.flatMap((m) => (m.caught ? [rangeOf(m.caught.fallback)] : [])),
    ...members
      .filter(inSlot)
      .map(
        (m) =>
          [
            rangeOf(m.pattern)[0],
            annotationOf(m.pattern) ? rangeOf(annotationOf(m.pattern)!)[0] : rangeOf(m.pattern)[1],
          ] as [number, number],
      ),
    ...between.map(rangeOf),
    ...group.hoisted.map(rangeOf),
  ]
  const owned = new Map<Member, string[]>(members.map((m) => [m, []]))
  const trailing = new Map<Member, string[]>(members.map((m) => [m, []]))
  for (const c of src.comments) {
    const r = rangeOf(c)
    if (!within(r, range) || kept.some((k) => within(r, k))) continue
    let owner = members.find((m) => within(r, rangeOf(m.stmt)))
    if (!owner) {
      const prev = [...members].reverse().find((m) => rangeOf(m.stmt)[1] <= r[0])
      if (prev && !text.slice(rangeOf(prev.stmt)[1], r[0]).includes('\n') && c.type === 'Line') {
        trailing.get(prev)!.push(commentText(c))
        continue
      }
    }
    owner ??= members.find((m) => rangeOf(m.stmt)[0] >= r[1]) ?? last
    owned.get(owner)!.push(commentText(c))
  }
  return { owned, trailing }
}

/** The `Promise.all` declaration, then the statements that follow it in their original order. */
function promiseAllLines(layout: Layout, { owned, trailing }: CommentOwners): string[] {
  const { group, src, range, inSlot, allAnnotated } = layout
  const { members } = group
  const text = src.text
  const first = members[0]!
  const indent = /^[ \t]*/.exec(text.slice(lineStartOf(text, range[0]), range[0]))![0]
  const inner = `${indent}  `
  const statementText = (m: Member): string =>
    text.slice(...rangeOf(m.caught ? m.caught.tried : m.stmt)).trimEnd()
  const semi = statementText(first).endsWith(';') ? ';' : ''
  const slots: string[] = []
  const elements: string[] = []
  const temps = new Map<Member, string>()
  members.forEach((m, i) => {
    if (m.joined) {
      slots.push(...m.joined.slots.map((slot) => patternText(slot, text)))
    } else if (inSlot(m)) {
      slots.push(patternText(m.pattern, text))
    } else {
      const t = tempName(text, i)
      temps.set(m, t)
      slots.push(t)
    }
    for (const c of owned.get(m)!) elements.push(`${inner}${c}`)
    const tail = trailing.get(m)!
    const own = elementTexts(m, text).map((e) => `${inner}${e},`)
    if (tail.length > 0) own[own.length - 1] += ` ${tail.join(' ')}`
    elements.push(...own)
  })
  const tuple = allAnnotated
    ? `: [${members.map((m) => annotationText(m.pattern, text)).join(', ')}]`
    : ''
  return [
    // Statements between the awaits that use no result run first: later calls may need them.
    ...group.hoisted.map((stmt, i) => `${i === 0 ? '' : indent}${text.slice(...rangeOf(stmt))}`),
    `${group.hoisted.length > 0 ? indent : ''}${first.kind} [${slots.join(', ')}]${tuple} = await Promise.all([`,
    ...elements,
    `${indent}])${semi}`,
    ...afterLines(group, text, temps, indent, semi),
  ]
}

/** Statements that follow the Promise.all, in their original order: temporaries assigned, code between. */
function afterLines(
  { members, between }: Group,
  text: string,
  temps: Map<Member, string>,
  indent: string,
  semi: string,
): string[] {
  const lines: string[] = []
  const ordered = [...members.map((m) => m.stmt), ...between].sort(
    (a, b) => rangeOf(a)[0] - rangeOf(b)[0],
  )
  for (const stmt of new Set(ordered)) {
    const own = members.filter((x) => x.stmt === stmt)
    const m = own[0]
    if (m && !temps.has(m)) continue
    if (m?.caught) {
      lines.push(`${indent}${m.caught.target} = ${temps.get(m)!}${semi}`)
    } else if (m) {
      // Each await (several when they were nested in one statement) gives way to its result; a
      // conditional one with its condition, which its element already holds.
      let line = ''
      let at = rangeOf(stmt)[0]
      for (const x of own) {
        const [start, end] = rangeOf(x.conditional ?? x.await)
        line += text.slice(at, start) + temps.get(x)!
        at = end
      }
      lines.push(`${indent}${line}${text.slice(at, rangeOf(stmt)[1])}`)
    } else {
      lines.push(`${indent}${text.slice(...rangeOf(stmt))}`)
    }
  }
  return lines
}

/** What could change when the rewrite is applied. */
function changesOf({ members, between, hoisted }: Group): string[] {
  const changes = [
    'if one call rejects, the others still run (their side effects are no longer skipped), and the first rejection in time, not in program order, is thrown',
  ]
  if (hoisted.length > 0)
    changes.push('the statements between the awaits that use no result run before the calls start')
  if (between.length > 0)
    changes.push(
      'the statements between the awaits that use a result run after all of the calls have settled',
    )
  if (members.some((m) => m.then))
    changes.push(
      'a call that needs the result of the one before it runs in `.then` on it, as soon as that one settles',
    )
  if (members.some((m) => m.conditional))
    changes.push(
      'each condition is evaluated before the calls start; a call still runs only when its condition holds',
    )
  if (members.some((m) => m.wrapped))
    changes.push(
      'the code around each nested await (e.g. parsing) runs after all of the calls have settled',
    )
  if (members.some((m) => m.caught)) {
    changes.push(
      'a call that throws synchronously, before returning a promise, is no longer caught by its catch block',
      'each variable is assigned after all of the calls have settled, its fallback when its own call rejected',
    )
  }
  return changes
}
