/**
 * `prometheusText()` against the text exposition format 0.0.4: the output is parsed back by a
 * strict reader of the format's rules (below) and compared with the snapshots it came from.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, InvalidOptionError } from '../core/errors.js'
import { execute } from '../core/execute.js'
import { Loader } from '../batch/loader.js'
import { cached } from '../cache/cached.js'
import { memoryCacheStore } from '../cache/memory-store.js'
import { adaptiveConcurrency } from '../policies/adaptive.js'
import { circuitBreaker } from '../policies/circuit-breaker.js'
import { limit } from '../policies/limit.js'
import { rateLimit } from '../policies/rate-limit.js'
import { escapeLabel, prometheusText } from './prometheus.js'

interface Series {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

interface Parsed {
  readonly help: Map<string, string>
  readonly types: Map<string, string>
  readonly series: Series[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/** A float as Go's ParseFloat reads the format's values. */
function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value ${text}`)
  return Number(text)
}

/** `{a="x",b="y"}` from `at`: the labels, unescaped, and where the block ends. */
function parseLabels(line: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {}
  let i = at + 1
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i)
    const key = line.slice(i, eq)
    if (!LABEL_NAME.test(key)) throw new Error(`bad label name ${JSON.stringify(key)}`)
    if (key in labels) throw new Error(`label ${key} twice`)
    if (line[eq + 1] !== '"') throw new Error('label value not quoted')
    let value = ''
    for (i = eq + 2; line[i] !== '"'; i++) {
      if (i >= line.length) throw new Error('unterminated label value')
      if (line[i] === '\\') {
        const next = line[++i]
        if (next === 'n') value += '\n'
        else if (next === '\\' || next === '"') value += next
        else throw new Error(`bad escape \\${next}`)
      } else value += line[i]
    }
    labels[key] = value
    i++
    if (line[i] === ',') i++
    else if (line[i] !== '}') throw new Error(`expected , or } at ${i} in ${line}`)
  }
  return { labels, end: i + 1 }
}

/** Reads exposition text, throwing on anything format 0.0.4 does not allow (or allows loosely). */
function parseExposition(text: string): Parsed {
  const help = new Map<string, string>()
  const types = new Map<string, string>()
  const series: Series[] = []
  const done = new Set<string>()
  const ids = new Set<string>()
  let current: string | undefined
  const enter = (name: string): void => {
    if (name === current) return
    if (done.has(name)) throw new Error(`${name} appears in two groups`)
    if (current !== undefined) done.add(current)
    current = name
  }
  if (text !== '' && !text.endsWith('\n')) throw new Error('the text must end with a line feed')
  for (const line of text.split('\n').slice(0, -1)) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta !== null) {
      const [, what, name, rest] = meta as unknown as [string, string, string, string]
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`)
      enter(name)
      if (what === 'HELP') {
        if (help.has(name)) throw new Error(`two HELP lines for ${name}`)
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, '')))
          throw new Error(`bad escape in HELP ${rest}`)
        help.set(
          name,
          rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')),
        )
      } else {
        if (types.has(name) || series.some((s) => s.name === name))
          throw new Error(`TYPE for ${name} after its samples, or twice`)
        if (!TYPES.has(rest)) throw new Error(`bad type ${rest}`)
        types.set(name, rest)
      }
      continue
    }
    if (line.startsWith('#') || line.trim() === '') throw new Error(`unexpected line ${line}`)
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]
    let labels: Record<string, string> = {}
    let i = name.length
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i))
    if (line[i] !== ' ') throw new Error(`expected a space before the value in ${line}`)
    const value = parseValue(line.slice(i + 1))
    enter(name)
    const id = JSON.stringify([name, Object.entries(labels).sort()])
    if (ids.has(id)) throw new Error(`series twice: ${id}`)
    ids.add(id)
    if (types.get(name) === 'counter' && !name.endsWith('_total'))
      throw new Error(`counter ${name} without _total`)
    series.push({ name, labels, value })
  }
  return { help, types, series }
}

const value = (p: Parsed, name: string, labels: Record<string, string>): number | undefined =>
  p.series.find(
    (s) =>
      s.name === name &&
      Object.keys(labels).length === Object.keys(s.labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value

describe('prometheusText()', () => {
  it('writes HELP, TYPE and one series per component, labelled by name', async () => {
    const api = limit({ concurrency: 8, name: 'api' })
    const payments = circuitBreaker({ name: 'payments' })
    await api.run(() => 'ok')
    expect(prometheusText([api, payments])).toBe(
      [
        '# HELP fanout_limiter_in_flight Calls holding a slot of the concurrency limiter now.',
        '# TYPE fanout_limiter_in_flight gauge',
        'fanout_limiter_in_flight{name="api"} 0',
        '# HELP fanout_limiter_queued Calls waiting for a slot of the concurrency limiter now.',
        '# TYPE fanout_limiter_queued gauge',
        'fanout_limiter_queued{name="api"} 0',
        '# HELP fanout_limiter_limit Calls the concurrency limiter lets run at once.',
        '# TYPE fanout_limiter_limit gauge',
        'fanout_limiter_limit{name="api"} 8',
        '# HELP fanout_limiter_waited_total Calls that waited in line for a slot.',
        '# TYPE fanout_limiter_waited_total counter',
        'fanout_limiter_waited_total{name="api"} 0',
        '# HELP fanout_limiter_rejected_total Calls refused by the concurrency limiter: its queue was full, or the wait ran out of time.',
        '# TYPE fanout_limiter_rejected_total counter',
        'fanout_limiter_rejected_total{name="api",reason="queue_full"} 0',
        'fanout_limiter_rejected_total{name="api",reason="timeout"} 0',
        '# HELP fanout_breaker_state Circuit breaker state: 0 closed, 1 half-open, 2 open.',
        '# TYPE fanout_breaker_state gauge',
        'fanout_breaker_state{name="payments"} 0',
        '# HELP fanout_breaker_failures Failures the trip rule counts now: in a row (consecutive), or in the window (ratio).',
        '# TYPE fanout_breaker_failures gauge',
        'fanout_breaker_failures{name="payments"} 0',
        '# HELP fanout_breaker_opened_total Times the circuit breaker opened.',
        '# TYPE fanout_breaker_opened_total counter',
        'fanout_breaker_opened_total{name="payments"} 0',
        '# HELP fanout_breaker_transitions_total State changes of the circuit breaker.',
        '# TYPE fanout_breaker_transitions_total counter',
        'fanout_breaker_transitions_total{name="payments"} 0',
        '# HELP fanout_breaker_rejected_total Calls the circuit breaker failed fast.',
        '# TYPE fanout_breaker_rejected_total counter',
        'fanout_breaker_rejected_total{name="payments"} 0',
        '',
      ].join('\n'),
    )
    expect(prometheusText([])).toBe('')
  })

  it('writes every kind of component, grouped by family, and reads back what the snapshots say', async () => {
    const search = limit({ concurrency: 4, name: 'search' })
    const db = limit({ concurrency: Infinity, name: 'db' })
    const adaptive = adaptiveConcurrency(search, { name: 'search' })
    const github = rateLimit({ rate: 10, per: 1_000, name: 'github' })
    const perTenant = rateLimit({ rate: 10, per: 1_000, name: 'tenants', key: (c) => c.task })
    const store = memoryCacheStore({ maxEntries: 10, name: 'hot' })
    const users = cached((id: string) => ({ id }), { store, ttl: 1_000, scope: 'shared' })
    const loader = new Loader((keys: readonly number[]) => new Map(keys.map((k) => [k, k])))
    await Promise.all([users('a'), users('a'), loader.load(1), loader.load(2)])
    await execute(github.wrap(() => Promise.resolve(1)))
    const breaker = circuitBreaker({ name: 'payments', consecutive: 1 })
    await execute(breaker.wrap(() => Promise.reject(new Error('down')))).catch(() => {})
    const sources = [search, db, adaptive, github, perTenant, users, store, loader, breaker]
    const parsed = parseExposition(prometheusText(sources))
    for (const s of parsed.series) {
      expect(parsed.types.has(s.name), s.name).toBe(true)
      expect(parsed.help.get(s.name)?.length, s.name).toBeGreaterThan(10)
    }
    expect(value(parsed, 'fanout_limiter_limit', { name: 'db' })).toBe(Infinity)
    expect(value(parsed, 'fanout_adaptive_limit', { name: 'search' })).toBe(search.concurrency)
    expect(value(parsed, 'fanout_rate_limiter_admitted_total', { name: 'github' })).toBe(1)
    expect(value(parsed, 'fanout_rate_limiter_rate_factor', { name: 'github' })).toBe(1)
    // A keyed limiter's factor is per key: not one series.
    expect(value(parsed, 'fanout_rate_limiter_rate_factor', { name: 'tenants' })).toBeUndefined()
    expect(value(parsed, 'fanout_cache_misses_total', { name: 'cached' })).toBe(2)
    expect(value(parsed, 'fanout_cache_store_entries', { name: 'hot' })).toBe(1)
    expect(value(parsed, 'fanout_loader_batches_total', { name: 'loader' })).toBe(1)
    expect(value(parsed, 'fanout_loader_keys_total', { name: 'loader' })).toBe(2)
    expect(value(parsed, 'fanout_breaker_state', { name: 'payments' })).toBe(2)
    expect(value(parsed, 'fanout_breaker_opened_total', { name: 'payments' })).toBe(1)
    expect(parsed.types.get('fanout_breaker_state')).toBe('gauge')
    expect(parsed.types.get('fanout_cache_hits_total')).toBe('counter')
  })

  it('escapes any name as a label value, and the reader gets it back whole', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, unit: 'binary' }), { minLength: 1, maxLength: 5 }),
        fc.string({ unit: 'binary' }),
        (names, service) => {
          const limiters = names
            .filter((n) => n.trim() !== '')
            .map((name) => limit({ concurrency: 2, name }))
          const text = prometheusText(limiters, { labels: { service } })
          const parsed = parseExposition(text)
          const inFlight = parsed.series.filter((s) => s.name === 'fanout_limiter_in_flight')
          expect(inFlight.map((s) => s.labels)).toEqual(
            limiters.map((l) => ({ name: l.stats().name, service })),
          )
        },
      ),
      { numRuns: 300 },
    )
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd')
    const text = prometheusText([limit({ concurrency: 1, name: 'x"} 1\nfanout_evil 2' })])
    expect(text).toContain('{name="x\\"} 1\\nfanout_evil 2"}')
    expect(parseExposition(text).series.every((s) => s.name.startsWith('fanout_limiter_'))).toBe(
      true,
    )
  })

  it('reports two components of one kind with one name; reads one component given twice once', () => {
    const a = limit({ concurrency: 1 })
    const b = limit({ concurrency: 2 })
    expect(() => prometheusText([a, b])).toThrow(InvalidArgumentError)
    expect(() => prometheusText([a, b])).toThrow(
      'prometheusText(): two limiters are named "limit" (sources[0] and sources[1]): their series would clash. Give each its own `name`, e.g. limit({ concurrency: 8, name: \'search\' }).',
    )
    const text = prometheusText([a, a])
    expect(text.match(/^fanout_limiter_limit/gm)).toHaveLength(1)
    // One name across kinds is fine: they are different families.
    const breaker = circuitBreaker({ name: 'limit' })
    expect(() => prometheusText([a, breaker])).not.toThrow()
    expect(() => prometheusText([circuitBreaker(), circuitBreaker()])).toThrow(
      /two circuit breakers are named "circuit"/,
    )
    const twice = [a, b].map((l) => adaptiveConcurrency(l))
    expect(() => prometheusText(twice)).toThrow(
      /two adaptive concurrency policies are named "adaptive" .* adaptiveConcurrency\(limiter, \{ name: 'search' \}\)/,
    )
  })

  it('takes snapshots as well as components, and refuses anything else with the reason', () => {
    const api = limit({ concurrency: 3, name: 'api' })
    expect(prometheusText([api.stats()])).toBe(prometheusText([api]))
    expect(prometheusText(new Set([api]))).toBe(prometheusText([api]))
    expect(() => prometheusText([{ stats: () => ({ kind: 'nope', name: 'x' }) }] as never)).toThrow(
      /sources\[0\] is neither a fanout component with stats\(\)/,
    )
    expect(() => prometheusText([api, 42] as never)).toThrow(/sources\[1\] is neither/)
    expect(() => prometheusText(api as never)).toThrow(
      /`sources` must be an array \(or another iterable\)/,
    )
  })

  it('adds constant labels, checked against the format and the labels fanout sets', () => {
    const api = limit({ concurrency: 1, name: 'api' })
    const text = prometheusText([api], { labels: { service: 'checkout', zone: 'eu"1' } })
    expect(text).toContain('fanout_limiter_limit{name="api",service="checkout",zone="eu\\"1"} 1')
    for (const bad of ['name', 'reason', '__x', '1x', 'a-b', ''])
      expect(() => prometheusText([api], { labels: { [bad]: 'v' } })).toThrow(InvalidOptionError)
    expect(() => prometheusText([api], { labels: { a: 1 as never } })).toThrow(
      'prometheusText(): `labels.a` must be a string, got 1.',
    )
    expect(() => prometheusText([api], { label: {} } as never)).toThrow(InvalidOptionError)
  })

  it('the strict reader refuses what the format does not allow', () => {
    const bad = [
      'x 1', // no trailing line feed
      'x{a="1} 1\n',
      'x{a="\\t"} 1\n',
      'x{1a="1"} 1\n',
      'x 1\ny 1\nx 2\n',
      '# TYPE x_total counter\nx_total 1\n# TYPE x_total counter\n',
      '# TYPE x counter\nx 1\n',
      'x{a="1"} 1\nx{a="1"} 2\n',
      'x 1.2.3\n',
    ]
    for (const text of bad) expect(() => parseExposition(text), text).toThrow()
    expect(parseExposition('# HELP x a\\\\b\\nc\n# TYPE x gauge\nx{a="\\""} +Inf\n')).toEqual({
      help: new Map([['x', 'a\\b\nc']]),
      types: new Map([['x', 'gauge']]),
      series: [{ name: 'x', labels: { a: '"' }, value: Infinity }],
    })
  })
})
