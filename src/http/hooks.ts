/**
 * `beforeRequest` hooks: the caller's code that adds headers (an `Authorization` from a token
 * source, a signature) to each attempt of a request.
 *
 * They run once per attempt, before its first hop, so a token refreshed between attempts is
 * picked up by the retry; they do not run again on redirect hops, so a credential a hook added
 * is dropped on a cross-origin redirect like any other (I5). What a hook leaves in `headers` is
 * checked as the `headers` option is (names, CR/LF), and no message shows a value.
 */
import { InvalidOptionError } from '../core/errors.js'
import { show } from '../core/validate.js'
import { mergeHeaders } from './header-check.js'
import type { Hop } from './redirect.js'

/** What a `beforeRequest` hook sees of the request, and may change (`headers` only). */
export interface HttpRequestInfo {
  /** The URL of the first hop (userinfo already moved to `authorization`, no fragment). */
  readonly url: string
  readonly method: string
  /** Lower-case names. Set, replace or delete entries; names are checked and lower-cased after the hook. */
  readonly headers: Record<string, string>
  /** The request body, for hooks that sign it. */
  readonly body: string | Uint8Array | undefined
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number
}

export type BeforeRequestHook = (request: HttpRequestInfo) => void | Promise<void>

export function parseHooks(where: string, value: unknown): readonly BeforeRequestHook[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value]
  for (const hook of list) {
    if (typeof hook !== 'function') {
      throw new InvalidOptionError(
        `${where}: \`beforeRequest\` must be a function (request) => void | Promise<void>, or an array of them, got ${show(hook)}.`,
      )
    }
  }
  return Object.freeze([...list]) as readonly BeforeRequestHook[]
}

/** Runs the hooks in order on a copy of the first hop's headers; the hop they leave. */
export async function runHooks(
  where: string,
  hooks: readonly BeforeRequestHook[],
  hop: Hop,
  attempt: number,
): Promise<Hop> {
  const headers: Record<string, string> = Object.assign(
    Object.create(null) as Record<string, string>,
    hop.headers,
  )
  const info: HttpRequestInfo = {
    url: hop.url.href,
    method: hop.method,
    headers,
    body: hop.body,
    attempt,
  }
  for (const hook of hooks) await hook(info)
  const checked: Record<string, string> = Object.create(null) as Record<string, string>
  mergeHeaders(`${where}: a beforeRequest hook left`, 'headers', headers, checked)
  return { url: hop.url, method: hop.method, headers: checked, body: hop.body }
}
