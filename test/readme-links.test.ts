/**
 * Every relative link in README.md and the pages under docs/ resolves: the file it names exists,
 * and a `#fragment` names a heading of that file (by the anchor GitHub gives it). Moving a
 * section or renaming a page without fixing the links that point to it fails here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { documents, headingAnchors, linksOf } from './helpers/markdown.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** What is wrong with each relative link of `doc` (a path from the project root). */
function brokenLinks(doc: string, text: string): string[] {
  const broken: string[] = []
  for (const target of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:…
    const [path, fragment] = target.split('#', 2) as [string, string | undefined]
    const file = path === '' ? join(root, doc) : join(root, dirname(doc), path)
    if (!existsSync(file)) broken.push(`${target}: ${relative(root, file)} does not exist`)
    else if (fragment !== undefined && statSync(file).isFile() && file.endsWith('.md')) {
      const anchors = headingAnchors(readFileSync(file, 'utf8'))
      if (!anchors.has(fragment))
        broken.push(`${target}: no heading with anchor #${fragment} in ${relative(root, file)}`)
    }
  }
  return broken
}

describe('links in README and docs', () => {
  it('finds links (code in their text included), skips examples, and reports what is broken', () => {
    const text =
      'See [`retry()`](policies.md#retry), [x](#nowhere), [y](missing.md) and [z](https://a.example).\n' +
      '```ts\n[a](b)\n```\n'
    expect(linksOf(text)).toEqual([
      'policies.md#retry',
      '#nowhere',
      'missing.md',
      'https://a.example',
    ])
    expect(brokenLinks('docs/core.md', text)).toEqual([
      '#nowhere: no heading with anchor #nowhere in docs/core.md',
      'missing.md: docs/missing.md does not exist',
    ])
  })

  it('the README and the docs index link to the pages', () => {
    const links = documents(root).flatMap((doc) => linksOf(readFileSync(join(root, doc), 'utf8')))
    expect(links.length).toBeGreaterThan(50)
  })

  for (const doc of documents(root)) {
    it(`every relative link of ${doc} resolves, fragment included`, () => {
      const text = readFileSync(join(root, doc), 'utf8')
      expect(brokenLinks(doc, text)).toEqual([])
    })
  }
})
