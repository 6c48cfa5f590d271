/**
 * `fanout lint` next to TypeScript 7, whose package has no JavaScript API for
 * @typescript-eslint/parser: a one-line explanation with the way to lint, not a stack trace.
 * (test/install-matrix.test.ts runs it for real in a project on the newest TypeScript.)
 */
import { describe, expect, it } from 'vitest'
import { unsupportedTypeScript } from '../src/cli/typescript-check.js'

describe('fanout lint next to TypeScript 7', () => {
  it('explains that the parser needs TypeScript 6 or older, and how to lint', () => {
    const failure = new Error('typescript-eslint does not support TS 7.0.')
    const error = unsupportedTypeScript(failure, '7.0.2')
    expect(error?.message).toMatch(/^lint cannot parse files next to typescript 7\.0\.2: /)
    expect(error?.message).toContain(
      'npm install --save-dev typescript@npm:@typescript/typescript6',
    )
    expect(error?.message).toContain(
      '(the parser said: typescript-eslint does not support TS 7.0.)',
    )
  })

  it('leaves any other parser failure alone', () => {
    expect(unsupportedTypeScript(new Error('x'), '5.9.3')).toBeUndefined()
    expect(unsupportedTypeScript(new Error('x'), '6.0.3')).toBeUndefined()
  })
})
