/** Reading the project's markdown (README.md, docs/*.md) the way GitHub renders it. */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** README.md, then every page under docs/ (pages added later included), by name. */
export function documents(root: string): string[] {
  return [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => `docs/${name}`),
  ]
}

/** The text without its fenced code blocks: a `## ` or `[a](b)` inside an example is not markdown. */
export const withoutCode = (text: string): string => text.replace(/^```[\s\S]*?^```/gm, '')

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export const anchor = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-')

/** The anchors of every heading; a repeated heading gets `-1`, `-2`… as on GitHub. */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const [, heading] of withoutCode(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = anchor(heading!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** The targets of the inline links `[text](target)` outside fenced code. */
export const linksOf = (text: string): string[] =>
  [...withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
