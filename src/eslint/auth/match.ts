/**
 * Name matching for `fanout/no-parallel-auth` that also says which pattern matched, so a report
 * can tell the user why a call counts as a check ("its name matches `verify*Token`").
 */
import { globToRegExp } from '../rule-utils.js'

/** A finder over names from globs or `/regex/flags` strings: the first pattern that matches. */
export function patternFinder(patterns: readonly string[]): (name: string) => string | undefined {
  const compiled = patterns.map((pattern) => {
    const literal = /^\/(.*)\/([a-z]*)$/.exec(pattern)
    return {
      pattern,
      regexp: literal ? new RegExp(literal[1] ?? '', literal[2]) : globToRegExp(pattern),
    }
  })
  return (name) => compiled.find(({ regexp }) => regexp.test(name))?.pattern
}

/**
 * Matches a callee by its last segment, or by a dotted suffix for patterns containing `.`
 * (`auth.getUser`); answers the pattern that matched.
 */
export function segmentFinder(
  patterns: readonly string[],
): (segments: readonly string[]) => string | undefined {
  const plain = patternFinder(patterns.filter((p) => !p.includes('.') || p.startsWith('/')))
  const dotted = patterns
    .filter((p) => p.includes('.') && !p.startsWith('/'))
    .map((p) => ({ pattern: p, parts: p.split('.').length, regexp: globToRegExp(p) }))
  return (segments) => {
    const last = segments[segments.length - 1]
    const hit = last !== undefined ? plain(last) : undefined
    if (hit !== undefined) return hit
    return dotted.find(
      ({ parts, regexp }) =>
        segments.length >= parts && regexp.test(segments.slice(-parts).join('.')),
    )?.pattern
  }
}

/**
 * The suffixes of plain suffix globs (`*OrThrow` → `OrThrow`): a name ending in one of them is
 * split into its stem and the suffix (`getSessionOrThrow` → `getSession` + `OrThrow`).
 */
export function suffixSplitter(
  patterns: readonly string[],
): (name: string) => { stem: string; suffix: string } | undefined {
  const suffixes = patterns
    .filter((p) => p.startsWith('*') && !p.slice(1).includes('*') && !p.startsWith('/'))
    .map((p) => p.slice(1))
  return (name) => {
    const suffix = suffixes.find((s) => name.length > s.length && name.endsWith(s))
    return suffix === undefined ? undefined : { stem: name.slice(0, -suffix.length), suffix }
  }
}
