/**
 * The README's table of contents lists every `##` section, in order, with the anchor GitHub
 * gives its heading: a section added, renamed or moved without its entry fails here. A page
 * under docs/ that has a contents list (a run of `- [title](#anchor)` lines) keeps it as true.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { anchor, withoutCode } from './helpers/markdown.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const read = (file: string): string => readFileSync(join(root, file), 'utf8')

/** The `##` headings outside fenced code (a `## ` line inside an example is not a heading). */
const sections = (text: string): string[] =>
  [...withoutCode(text).matchAll(/^## (.+)$/gm)].map((m) => m[1]!)

const entriesOf = (list: string): { title: string; href: string }[] =>
  [...list.matchAll(/^- \[(.+)\]\(#(.+)\)$/gm)].map((m) => ({ title: m[1]!, href: m[2]! }))

describe('README: contents', () => {
  it('lists every ## section in order, each linked to its heading', () => {
    const readme = read('README.md')
    const contents = /\n## Contents\n\n((?:- .+\n)+)/.exec(readme)?.[1]
    expect(contents, 'README.md has a "## Contents" list').toBeDefined()
    const entries = entriesOf(contents!)
    const expected = sections(readme).filter((h) => h !== 'Contents')
    expect(entries).toEqual(expected.map((title) => ({ title, href: anchor(title) })))
    expect(entries.length).toBeGreaterThanOrEqual(4)
  })
})

describe('docs: contents lists', () => {
  const pages = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'))
  const withContents = pages.filter((name) => /^- \[.+\]\(#.+\)$/m.test(read(`docs/${name}`)))

  it('the pages with several sections have one', () => {
    expect(withContents.length).toBeGreaterThan(5)
  })

  for (const name of withContents) {
    it(`docs/${name} lists every ## section in order, each linked to its heading`, () => {
      const text = read(`docs/${name}`)
      const list = /(?:^- \[.+\]\(#.+\)\n)+/m.exec(text)![0]
      expect(entriesOf(list)).toEqual(
        sections(text).map((title) => ({ title, href: anchor(title) })),
      )
    })
  }
})
