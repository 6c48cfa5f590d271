/**
 * The HTTP side of offloading: reading the client's `Idempotency-Key`, and answering
 * `202 Accepted` with where to look for the result (`Location`) and when (`Retry-After`).
 */
import { InvalidArgumentError, InvalidOptionError } from '../core/errors.js'
import { headerValue } from '../core/headers.js'
import { field } from '../core/own.js'
import { checkKnownKeys, checkNumber, show, snapshot } from '../core/validate.js'
import type { OffloadResult } from './offload.js'

export interface AcceptedOptions {
  /** Where the job's status is, e.g. `/jobs/${jobId}`. */
  readonly location: string
  /** Seconds the client should wait before asking. Default 1. */
  readonly retryAfter?: number
}

/** The headers of a 202 for frameworks that set headers on their own response object. */
export function acceptedHeaders(
  result: OffloadResult,
  options: AcceptedOptions,
): Readonly<Record<'location' | 'retry-after', string>> {
  checkResult('acceptedHeaders()', result)
  const opts = snapshot('acceptedHeaders()', options)
  checkKnownKeys('acceptedHeaders()', opts, ['location', 'retryAfter'])
  if (typeof opts.location !== 'string' || opts.location === '' || /[\r\n]/.test(opts.location))
    throw new InvalidOptionError(
      `acceptedHeaders(): \`location\` must be a URL or path on one line, e.g. \`/jobs/\${jobId}\`, got ${show(opts.location)}.`,
    )
  const retryAfter =
    opts.retryAfter === undefined
      ? 1
      : checkNumber('acceptedHeaders()', 'retryAfter', opts.retryAfter, {
          min: 0,
          max: 86_400,
          integer: true,
          unit: 's',
        })
  return Object.freeze({ location: opts.location, 'retry-after': String(retryAfter) })
}

/**
 * A Web `Response`: 202, `Location`, `Retry-After`, and the JSON body
 * `{ jobId, deduplicated, location }`.
 */
export function accepted(result: OffloadResult, options: AcceptedOptions): Response {
  const headers = acceptedHeaders(result, options)
  return new Response(
    JSON.stringify({
      jobId: result.jobId,
      deduplicated: result.deduplicated,
      location: headers.location,
    }),
    { status: 202, headers: { ...headers, 'content-type': 'application/json' } },
  )
}

function checkResult(where: string, result: unknown): void {
  if (typeof result !== 'object' || result === null || typeof field(result, 'jobId') !== 'string')
    throw new InvalidArgumentError(
      `${where}: expected what offload() resolved with, got ${show(result)}.`,
    )
}

/** Printable ASCII, no leading or trailing space, at most 255 characters. */
const KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/

/**
 * The request's `Idempotency-Key` (IETF httpapi draft), from a `Request`, a `Headers` or a
 * plain headers record (Node's `req.headers`); `undefined` when absent. The draft sends it as a
 * structured-field string (`"8e03…"`); a bare token is accepted too. A key that is empty, longer
 * than 255 characters, not printable ASCII, holding a comma, or given twice is refused with
 * `InvalidArgumentError`: answer 400.
 */
export function idempotencyKeyOf(source: unknown): string | undefined {
  if (typeof source !== 'object' || source === null)
    throw new InvalidArgumentError(
      `idempotencyKeyOf(): expected a Request, Headers or a headers record, got ${show(source)}.`,
    )
  const headers = field(source, 'headers')
  const raw = headerValue(
    typeof headers === 'object' && headers !== null ? headers : source,
    'idempotency-key',
  )
  if (raw === undefined) return undefined
  let key = raw.trim()
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1)
  // A comma: the header came twice (HTTP joins repeated fields with ", "), which key is meant?
  if (!KEY.test(key) || /["\\,]/.test(key))
    throw new InvalidArgumentError(
      'idempotencyKeyOf(): the Idempotency-Key header must be one value of 1–255 printable ASCII characters.',
    )
  return key
}
