/**
 * The README's table of contents lists every `##` section, in order, with the anchor GitHub
 * gives its heading: a section added, renamed or moved without its entry fails here.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const readme = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'),
  'utf8',
)

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-')

describe('README: contents', () => {
  it('lists every ## section in order, each linked to its heading', () => {
    // Outside fenced code only: a `## ` line inside an example is not a heading.
    const prose = readme.replace(/^```[\s\S]*?^```/gm, '')
    const sections = [...prose.matchAll(/^## (.+)$/gm)]
      .map((m) => m[1]!)
      .filter((h) => h !== 'Contents')
    const contents = /\n## Contents\n\n((?:- .+\n)+)/.exec(readme)?.[1]
    expect(contents, 'README.md has a "## Contents" list').toBeDefined()
    const entries = [...contents!.matchAll(/^- \[(.+)\]\(#(.+)\)$/gm)].map((m) => ({
      title: m[1]!,
      href: m[2]!,
    }))
    expect(entries).toEqual(sections.map((title) => ({ title, href: anchor(title) })))
    expect(entries.length).toBeGreaterThan(5)
  })
})
