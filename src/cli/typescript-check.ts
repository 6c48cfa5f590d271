/**
 * Why @typescript-eslint/parser failed to load, when the reason is the TypeScript installed next
 * to it. The parser needs TypeScript's JavaScript API, which TypeScript 7 (the native compiler)
 * no longer has: parser 8 refuses it, parser 7 crashes while loading. A fresh project's
 * `npm install --save-dev typescript` brings 7, so `fanout lint` says so and how to lint anyway,
 * instead of a stack trace.
 */
import { createRequire } from 'node:module'
import { UsageError } from './usage.js'

/** The version of the `typescript` the parser resolves, or undefined when there is none. */
export function parserTypeScriptVersion(): string | undefined {
  try {
    // Resolved from the parser's own location, as its require('typescript') is.
    const parser = import.meta.resolve('@typescript-eslint/parser')
    const { version } = createRequire(parser)('typescript/package.json') as { version?: unknown }
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}

/** A `UsageError` explaining the parser's `failure` when a TypeScript 7 or later is the cause. */
export function unsupportedTypeScript(
  failure: unknown,
  version: string | undefined = parserTypeScriptVersion(),
): UsageError | undefined {
  if (version === undefined || Number.parseInt(version, 10) < 7) return undefined
  return new UsageError(
    `lint cannot parse files next to typescript ${version}: @typescript-eslint/parser needs TypeScript's JavaScript API, ` +
      'which TypeScript 7 no longer has (the rest of fanout does not need TypeScript). ' +
      'To lint, let `typescript` resolve to TypeScript 6, e.g. npm install --save-dev typescript@npm:@typescript/typescript6' +
      (failure instanceof Error ? ` (the parser said: ${failure.message})` : ''),
  )
}
