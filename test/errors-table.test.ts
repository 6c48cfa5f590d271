/**
 * Keeps the error table of docs/errors.md honest: every exported class that extends `FanoutError`, from every
 * entry point, has a row, the row lists exactly the codes its instances carry, and no row names a
 * class that is not exported. A new error class fails here until it has a row and a sample below.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as core from '../src/index.js'
import * as http from '../src/http/index.js'
import * as cache from '../src/cache/index.js'
import * as rest from '../src/rest/index.js'
import * as policies from '../src/policies/index.js'
import * as pLimit from '../src/compat/p-limit.js'
import * as dataloader from '../src/compat/dataloader.js'
import * as queue from '../src/queue/index.js'
import * as bullmq from '../src/queue-bullmq/index.js'
import * as amqp from '../src/queue-amqp/index.js'
import * as redis from '../src/redis/index.js'
import { parseSsrfOptions } from '../src/http/ssrf.js'

const { FanoutError } = core
type AnyFanoutError = InstanceType<typeof FanoutError>

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const page = readFileSync(join(root, 'docs', 'errors.md'), 'utf8')

/** The rows of the page's error table (`| \`Class\` | codes | when |`): class → its codes. */
function errorTable(): Map<string, Set<string>> {
  const rows = new Map<string, Set<string>>()
  for (const line of page.split('\n')) {
    const cells = /^\| `(\w+)` \| ([^|]+) \|/.exec(line)
    if (cells === null) continue
    rows.set(cells[1]!, new Set([...cells[2]!.matchAll(/`(FANOUT_\w+)`/g)].map((m) => m[1]!)))
  }
  return rows
}

/** Every exported class (from any entry point) whose instances are FanoutErrors, the base excepted. */
function exportedErrorClasses(): Map<string, abstract new (...args: never[]) => AnyFanoutError> {
  const found = new Map<string, abstract new (...args: never[]) => AnyFanoutError>()
  for (const entry of [
    core,
    policies,
    cache,
    rest,
    http,
    pLimit,
    dataloader,
    queue,
    bullmq,
    amqp,
    redis,
  ] as Record<string, unknown>[]) {
    for (const [name, value] of Object.entries(entry)) {
      if (typeof value === 'function' && value.prototype instanceof FanoutError)
        found.set(name, value as abstract new (...args: never[]) => AnyFanoutError)
    }
  }
  return found
}

const verdict = parseSsrfOptions('test', undefined)!.checkHostname('127.0.0.1')!
const url = 'https://api.example/'
const cause = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })

/** Instances of each class, one per code it can carry. */
const samples: Record<string, () => AnyFanoutError[]> = {
  InvalidOptionError: () => [new core.InvalidOptionError('bad')],
  InvalidArgumentError: () => [new core.InvalidArgumentError('deep')],
  FlowError: () => [new core.FlowError('f', 't', new Error('x'), [], false)],
  CycleError: () => [new core.CycleError('f', ['a', 'b'])],
  UnknownTaskError: () => [new core.UnknownTaskError('unknown', 'x')],
  DependencyError: () => [new core.DependencyError('a', new Error('x'))],
  SkippedError: () => [new core.SkippedError('a', 'b', new Error('x'))],
  TimeoutError: () => [new core.TimeoutError('t', 1)],
  DeadlineError: () => [new core.DeadlineError('d', 1)],
  AbortedError: () => [new core.AbortedError('a')],
  RateLimitedError: () => [new core.RateLimitedError('r', 1)],
  RetryBudgetError: () => [
    new core.RetryBudgetError('b', cause, { attempts: 2, status: 503, retryAfterMs: undefined }),
  ],
  CircuitOpenError: () => [new core.CircuitOpenError('b', 0, 0)],
  QueueFullError: () => [new core.QueueFullError('q', 1)],
  RateLimitExceededError: () => [new core.RateLimitExceededError('l', 'maxWait', 'm', 1)],
  NotFoundError: () => [new core.NotFoundError('n', 1)],
  MissingPeerError: () => [new core.MissingPeerError(['undici'], 'npm install undici', 'm')],
  StoreUnavailableError: () => [new core.StoreUnavailableError('s', 'reserve', 'timeout', 'm')],
  StoreError: () => [new core.StoreError('s', 'reserve', 'm')],
  LeaseLostError: () => [new core.LeaseLostError('l', 'm')],
  ClientClosedError: () => [new core.ClientClosedError()],
  NoUserError: () => [new core.NoUserError('cached("inbox")')],
  QueueUnavailableError: () => [
    new queue.QueueUnavailableError('memory', 'enqueue', 'closed', 'm'),
  ],
  PaginationError: () => [new rest.PaginationError('loop', 'p')],
  UrlTooLongError: () => [new rest.UrlTooLongError('u', 1, 9_000, 8_000)],
  HttpError: () => [
    new http.HttpError({
      status: 503,
      headers: {},
      retryAfterMs: undefined,
      method: 'GET',
      url,
      body: new Uint8Array(),
    }),
  ],
  HttpTimeoutError: () => [
    new http.HttpTimeoutError('headers', 1, 'GET', url, 'timeout'),
    new http.HttpTimeoutError('body', 1, 'GET', url, 'deadline'),
  ],
  NetworkError: () => [new http.NetworkError('GET', url, cause)],
  ProtocolError: () => [new http.ProtocolError('GET', url, cause)],
  ResponseTooLargeError: () => [new http.ResponseTooLargeError('body', 1, 'GET', url, '')],
  RedirectError: () => [
    new http.RedirectError('loop', 'loop', { method: 'GET', url, location: url, redirects: 1 }),
  ],
  SsrfBlockedError: () => [new http.SsrfBlockedError(verdict, '127.0.0.1', url)],
  InvalidJsonError: () => [
    new http.InvalidJsonError({
      status: 200,
      method: 'GET',
      url,
      contentType: undefined,
      bytes: 1,
      position: undefined,
    }),
  ],
}

describe('docs/errors.md: the error table lists every error fanout throws', () => {
  const table = errorTable()
  const classes = exportedErrorClasses()

  it('finds the table and the exported error classes', () => {
    expect(table.size).toBeGreaterThan(10)
    expect(classes.size).toBeGreaterThan(10)
  })

  it('has a row for every exported FanoutError class, and no row for anything else', () => {
    expect(
      [...classes.keys()].filter((name) => !table.has(name)),
      'exported, missing from the table',
    ).toEqual([])
    expect(
      [...table.keys()].filter((name) => !classes.has(name)),
      'in the table, not an exported FanoutError',
    ).toEqual([])
  })

  it('each row lists exactly the codes its class carries', () => {
    for (const [name, Class] of classes) {
      const make = samples[name]
      expect(make, `add a sample of ${name} to this test`).toBeDefined()
      const instances = make!()
      for (const instance of instances) {
        expect(instance).toBeInstanceOf(Class)
        expect(instance.name, `${name}'s name`).toBe(name)
        expect(core.isFanoutError(instance)).toBe(true)
      }
      expect([...table.get(name)!].sort(), `${name}'s codes`).toEqual(
        [...new Set(instances.map((e) => e.code))].sort(),
      )
    }
  })
})
