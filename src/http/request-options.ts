/**
 * Reading one request's options, merged over the client's, into a RequestConfig. Only own
 * properties are read (I10), unknown names get a "did you mean", and each option has its own
 * small checker; the body, headers and deadline are settled once every option is read.
 */
import type { CallContext } from '../core/call.js'
import { checkContext, checkSignalOrContext } from '../core/shared-context.js'
import type { Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import { checkDuration, show } from '../core/validate.js'
import type { Recorder } from '../core/trace.js'
import { parseRetry } from './client-retry.js'
import { checkPlainObject, mergeHeaders, TOKEN } from './header-check.js'
import { checkMaxResponseSize, checkTimeouts, unknownKey } from './option-checks.js'
import type { ClientConfig, HttpRequestOptions, RequestConfig } from './option-types.js'

const REQUEST_KEYS = [
  'method',
  'headers',
  'query',
  'body',
  'json',
  'signal',
  'deadline',
  'deadlineAt',
  'timeouts',
  'maxResponseSize',
  'redirect',
  'retry',
  'idempotent',
  'trace',
  'context',
] as const
const REDIRECT_MODES = ['follow', 'error', 'manual'] as const

const METHODS: Readonly<Record<string, string>> = Object.assign(
  Object.create(null) as Record<string, string>,
  {
    get: 'GET',
    head: 'HEAD',
    post: 'POST',
    put: 'PUT',
    delete: 'DELETE',
    options: 'OPTIONS',
    patch: 'PATCH',
  },
)
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK'])

/** What the option loop gathers besides the RequestConfig itself, settled afterwards. */
interface Pending {
  json: { value: unknown } | undefined
  deadline: number | undefined
  own: Record<string, string> | undefined
}

function defaultRequest(
  config: ClientConfig,
  defaults: RequestConfig['headers'],
  fixed?: string,
): RequestConfig {
  return {
    method: fixed ?? 'GET',
    headers: defaults,
    body: undefined,
    signal: undefined,
    deadlineAt: Infinity,
    connectTimeout: undefined,
    headersTimeout: undefined,
    bodyTimeout: undefined,
    maxResponseSize: config.maxResponseSize,
    redirect: 'follow',
    query: undefined,
    retry: undefined,
    idempotent: undefined,
    trace: undefined,
    context: undefined,
    stream: false,
  }
}

/** A known method is upper-cased; CONNECT, TRACE and TRACK, or one other than `fixed`, are refused. */
function parseMethod(where: string, value: unknown, fixed: string | undefined): string {
  if (typeof value !== 'string' || !TOKEN.test(value))
    throw new InvalidOptionError(
      `${where}: \`method\` must be an HTTP method such as 'GET' or 'POST', got ${show(value)}.`,
    )
  const method = METHODS[value.toLowerCase()] ?? value
  if (FORBIDDEN_METHODS.has(method.toUpperCase()))
    throw new InvalidOptionError(`${where}: \`method\` ${show(value)} is not supported.`)
  if (fixed !== undefined && method !== fixed) {
    throw new InvalidOptionError(
      `${where}: sends ${fixed}, but \`method\` is ${show(value)}. Use client.request(url, { method: ${show(value)} }) for another method.`,
    )
  }
  return method
}

function checkBody(where: string, value: unknown): string | Uint8Array {
  if (typeof value !== 'string' && !(value instanceof Uint8Array))
    throw new InvalidOptionError(
      `${where}: \`body\` must be a string or a Uint8Array, got ${show(value)}. Use \`json\` for objects.`,
    )
  return value
}

function checkSignal(where: string, value: unknown): AbortSignal {
  if (typeof value !== 'object' || value === null || !('aborted' in value))
    throw new InvalidOptionError(`${where}: \`signal\` must be an AbortSignal, got ${show(value)}.`)
  return value as AbortSignal
}

function checkDeadlineAt(where: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new InvalidOptionError(
      `${where}: \`deadlineAt\` must be a time on the client's clock (a number), got ${show(value)}.`,
    )
  return value
}

function applyTimeouts(where: string, value: unknown, out: RequestConfig): void {
  const t = checkTimeouts(where, 'timeouts', value)
  if (t.connect !== undefined) out.connectTimeout = t.connect
  if (t.headers !== undefined) out.headersTimeout = t.headers
  if (t.body !== undefined) out.bodyTimeout = t.body
}

function checkRedirect(where: string, value: unknown): RequestConfig['redirect'] {
  if (!(REDIRECT_MODES as readonly unknown[]).includes(value))
    throw new InvalidOptionError(
      `${where}: \`redirect\` must be 'follow', 'error' or 'manual', got ${show(value)}.`,
    )
  return value as RequestConfig['redirect']
}

function checkIdempotent(where: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new InvalidOptionError(`${where}: \`idempotent\` must be a boolean, got ${show(value)}.`)
  return value
}

function checkTrace(where: string, value: unknown): Recorder {
  const t = value as Partial<Recorder> | null
  if (
    typeof t !== 'object' ||
    t === null ||
    typeof t.emit !== 'function' ||
    typeof t.enabled !== 'boolean'
  ) {
    throw new InvalidOptionError(
      `${where}: \`trace\` must be a Recorder ({ enabled, emit }), such as a flow task's ctx.trace, got ${show(value)}.`,
    )
  }
  return t as Recorder
}

/** Reads one option (in the caller's key order, so the first bad one is the one reported). */
function applyOption(
  where: string,
  key: string,
  value: unknown,
  out: RequestConfig,
  pending: Pending,
  defaults: RequestConfig['headers'],
  fixed: string | undefined,
): void {
  switch (key) {
    case 'method':
      out.method = parseMethod(where, value, fixed)
      break
    case 'headers':
      pending.own = Object.assign(Object.create(null) as Record<string, string>, defaults)
      mergeHeaders(where, 'headers', value, pending.own)
      break
    case 'query':
      out.query = encodeQuery(where, value)
      break
    case 'body':
      out.body = checkBody(where, value)
      break
    case 'json':
      pending.json = { value }
      break
    case 'signal':
      out.signal = checkSignal(where, value)
      break
    case 'deadline':
      pending.deadline = checkDuration(where, 'deadline', value, { allowInfinity: true })
      break
    case 'deadlineAt':
      out.deadlineAt = Math.min(out.deadlineAt, checkDeadlineAt(where, value))
      break
    case 'timeouts':
      applyTimeouts(where, value, out)
      break
    case 'maxResponseSize':
      out.maxResponseSize = checkMaxResponseSize(where, value)
      break
    case 'redirect':
      out.redirect = checkRedirect(where, value)
      break
    case 'retry':
      out.retry = parseRetry(where, value)
      break
    case 'idempotent':
      out.idempotent = checkIdempotent(where, value)
      break
    case 'trace':
      out.trace = checkTrace(where, value)
      break
    case 'context':
      out.context = checkContext(where, value)
      break
    default:
      unknownKey(where, key, REQUEST_KEYS)
  }
}

/** `json` becomes the body, with `content-type: application/json` unless the caller set one. */
function applyJson(
  where: string,
  json: { value: unknown },
  out: RequestConfig,
  pending: Pending,
  defaults: RequestConfig['headers'],
): void {
  if (out.body !== undefined)
    throw new InvalidOptionError(`${where}: pass \`body\` or \`json\`, not both.`)
  let text: string | undefined
  try {
    text = JSON.stringify(json.value)
  } catch (error) {
    throw new InvalidOptionError(
      `${where}: \`json\` could not be serialised: ${error instanceof Error ? error.message : String(error)}.`,
    )
  }
  if (text === undefined)
    throw new InvalidOptionError(
      `${where}: \`json\` must be a JSON value, got ${show(json.value)}.`,
    )
  out.body = text
  if (pending.own === undefined || pending.own['content-type'] === undefined) {
    pending.own ??= Object.assign(Object.create(null) as Record<string, string>, defaults)
    pending.own['content-type'] = 'application/json'
  }
}

/**
 * The request's options merged over the client's. `jsonMode`: the json() shortcut (accept:
 * application/json). `fixed`: the method a helper such as `post()` sends; a `method` option that
 * says otherwise is refused, as is a body on GET and HEAD.
 */
export function parseRequestOptions(
  where: string,
  options: HttpRequestOptions | undefined,
  config: ClientConfig,
  jsonMode: boolean,
  fixed?: string,
): RequestConfig {
  const defaults = jsonMode ? config.jsonHeaders : config.headers
  const out = defaultRequest(config, defaults, fixed)
  if (options === undefined) return out
  const o = checkPlainObject(where, 'options', options, 'a plain object') as Record<string, unknown>
  const pending: Pending = { json: undefined, deadline: undefined, own: undefined }
  for (const key of Object.keys(o)) {
    const value = o[key]
    if (value === undefined) continue
    applyOption(where, key, value, out, pending, defaults, fixed)
  }
  if (
    (fixed === 'GET' || fixed === 'HEAD') &&
    (out.body !== undefined || pending.json !== undefined)
  ) {
    throw new InvalidOptionError(
      `${where}: a ${fixed} request has no body; use client.request(url, { method: '${fixed}', body }) if your API really expects one.`,
    )
  }
  if (pending.json !== undefined) applyJson(where, pending.json, out, pending, defaults)
  if (pending.own !== undefined) out.headers = pending.own
  if (out.context !== undefined) withContext(where, out, out.context, config.clock)
  const deadline = pending.deadline
  if (deadline !== undefined && deadline !== Infinity)
    out.deadlineAt = Math.min(out.deadlineAt, config.clock.now() + deadline)
  return out
}

/** The context's signal is the request's; its deadline, moved onto the client's clock, bounds it. */
function withContext(where: string, out: RequestConfig, context: CallContext, clock: Clock): void {
  checkSignalOrContext(where, out.signal, context)
  out.signal = context.signal
  let deadlineAt = context.deadlineAt
  if (deadlineAt !== Infinity && context.clock !== clock)
    deadlineAt = clock.now() + (deadlineAt - context.clock.now())
  out.deadlineAt = Math.min(out.deadlineAt, deadlineAt)
}

function encodeQuery(where: string, value: unknown): string | undefined {
  const record = checkPlainObject(
    where,
    'query',
    value,
    'an object of names to strings, numbers, booleans or arrays of them',
  ) as Record<string, unknown>
  const parts: string[] = []
  const one = (key: string, v: unknown): void => {
    if (
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v))
    ) {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`)
    } else {
      throw new InvalidOptionError(
        `${where}: query parameter ${show(key)} must be a string, a finite number or a boolean (or an array of them), got ${show(v)}.`,
      )
    }
  }
  for (const key of Object.keys(record)) {
    const v = record[key]
    if (v === undefined) continue
    if (Array.isArray(v)) for (const item of v as unknown[]) one(key, item)
    else one(key, v)
  }
  return parts.length === 0 ? undefined : parts.join('&')
}
