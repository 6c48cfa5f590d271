import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isFanoutError, InvalidArgumentError } from '../core/errors.js'
import { cacheKey, MAX_KEY_DEPTH } from './key.js'

/**
 * An independent model of key equality: a canonical tree of tags and strings, compared through
 * JSON (injective on such trees). Object keys are sorted; Map entries and Set items are sorted by
 * their canonical form; numbers compare by String (so -0 is 0 and NaN is NaN).
 */
function canon(value: unknown): unknown {
  if (typeof value === 'string') return ['s', value]
  if (typeof value === 'number') return ['n', String(value)]
  if (typeof value === 'boolean') return ['b', String(value)]
  if (value === undefined) return ['u']
  if (value === null) return ['null']
  if (value instanceof Date) return ['d', String(value.getTime())]
  if (Array.isArray(value)) return ['a', value.map(canon)]
  if (value instanceof Map)
    return ['m', [...value].map(([k, v]) => JSON.stringify([canon(k), canon(v)])).sort()]
  if (value instanceof Set) return ['set', [...value].map((v) => JSON.stringify(canon(v))).sort()]
  const entries = Object.keys(value as object)
    .sort()
    .map((k) => [k, canon((value as Record<string, unknown>)[k])])
  return ['o', entries]
}
const same = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  JSON.stringify(a.map(canon)) === JSON.stringify(b.map(canon))

/** The same value built differently: object keys, Map and Set insertion order reversed, 0 as -0. */
function rebuild(value: unknown): unknown {
  if (value === 0) return -0
  if (Array.isArray(value)) return value.map(rebuild)
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Map)
    return new Map([...value].reverse().map(([k, v]) => [rebuild(k), rebuild(v)]))
  if (value instanceof Set) return new Set([...value].reverse().map(rebuild))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, rebuild(v)]),
    )
  }
  return value
}

/**
 * Reads a key back into parts. That every key decodes to exactly the parts it came from is the
 * proof of injectivity: two different lists cannot share a key that decodes to only one of them.
 */
function decode(key: string): unknown[] {
  let i = 0
  const until = (end: string): string => {
    const j = key.indexOf(end, i)
    if (j < 0) throw new Error(`no ${end} after ${i} in ${key}`)
    const text = key.slice(i, j)
    i = j + 1
    return text
  }
  const count = (): number => {
    const text = until(':')
    if (!/^\d+$/.test(text)) throw new Error(`bad count ${text} in ${key}`)
    return Number(text)
  }
  const text = (): string => {
    const n = count()
    const t = key.slice(i, i + n)
    if (t.length !== n) throw new Error(`short string in ${key}`)
    i += n
    return t
  }
  const value = (): unknown => {
    const tag = key[i++]
    switch (tag) {
      case 's':
        return text()
      case 'n':
        return Number(until(';'))
      case 'd':
        return new Date(Number(until(';')))
      case 'T':
        return true
      case 'F':
        return false
      case 'u':
        return undefined
      case 'z':
        return null
      case 'a':
        return Array.from({ length: count() }, value)
      case 'S':
        return new Set(Array.from({ length: count() }, value))
      case 'm': {
        const entries: [unknown, unknown][] = Array.from({ length: count() }, () => [
          value(),
          value(),
        ])
        return { map: entries }
      }
      case 'o': {
        const entries = Array.from({ length: count() }, () => [text(), value()] as const)
        return Object.fromEntries(entries)
      }
      default:
        throw new Error(`bad tag ${String(tag)} at ${i - 1} in ${key}`)
    }
  }
  const parts: unknown[] = []
  while (i < key.length) parts.push(value())
  return parts
}

/** canon(), except that a Map reads back as { map: entries } (a Set would collapse equal keys). */
function canonDecoded(value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Set) &&
    Object.keys(value).length === 1 &&
    'map' in value &&
    Array.isArray(value.map)
  ) {
    return [
      'm',
      (value.map as [unknown, unknown][])
        .map(([k, v]) => JSON.stringify([canonDecoded(k), canonDecoded(v)]))
        .sort(),
    ]
  }
  if (Array.isArray(value)) return ['a', value.map(canonDecoded)]
  if (value instanceof Set)
    return ['set', [...value].map((v) => JSON.stringify(canonDecoded(v))).sort()]
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return [
      'o',
      Object.keys(value)
        .sort()
        .map((k) => [k, canonDecoded((value as Record<string, unknown>)[k])]),
    ]
  }
  return canon(value)
}

// Strings made of the characters an encoding might use as separators, so near-collisions are common.
const tricky = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      's',
      'n',
      'a',
      'o',
      'm',
      'z',
      'u',
      '1',
      '2',
      ':',
      ';',
      '|',
      ',',
      '"',
      '\\',
    ),
    maxLength: 6,
  }),
  fc.constantFrom(
    '',
    ':',
    '|',
    '1|x',
    '1',
    'x',
    's1:a',
    'n1;',
    'a1:',
    'null',
    'undefined',
    'NaN',
    '1970-01-01T00:00:00.000Z',
  ),
  fc.string(),
)
const leaf = fc.oneof(
  tricky,
  fc.integer({ min: -3, max: 12 }),
  fc.double(),
  fc.constantFrom(null, undefined, true, false, NaN, 0, -0, Infinity),
  fc.date({ min: new Date(0), max: new Date(10), noInvalidDate: false }),
)
const { value: part } = fc.letrec<{
  value: unknown
  array: unknown[]
  object: Record<string, unknown>
  map: Map<unknown, unknown>
  set: Set<unknown>
}>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    tie('array'),
    tie('object'),
    tie('map'),
    tie('set'),
  ),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(tricky, tie('value'), { maxKeys: 3 }),
  map: fc
    .array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 })
    .map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
}))
const parts = fc.array(part, { maxLength: 4 })

describe('cacheKey()', () => {
  it('F3: canonical where JSON.stringify is wrong, distinct where it conflates', () => {
    expect(cacheKey({ a: 1, b: 2 })).toBe(cacheKey({ b: 2, a: 1 }))
    expect(cacheKey({ a: { x: [1], y: null }, b: 2 })).toBe(
      cacheKey({ b: 2, a: { y: null, x: [1] } }),
    )
    expect(cacheKey(-0)).toBe(cacheKey(0))
    expect(cacheKey([-0])).toBe(cacheKey([0]))
    expect(cacheKey(NaN)).toBe(cacheKey(NaN))
    expect(
      cacheKey(
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ),
    ).toBe(
      cacheKey(
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ),
    )
    expect(cacheKey(new Set([1, 2]))).toBe(cacheKey(new Set([2, 1])))

    const differs: [unknown, unknown][] = [
      [undefined, null],
      [NaN, null],
      [Infinity, null],
      [[undefined], [null]],
      [{ a: undefined }, {}],
      [new Map([['a', 1]]), new Map([['a', 2]])],
      [new Map([['a', 1]]), new Map()],
      [new Map(), {}],
      [new Set([1]), [1]],
      [new Date(0), new Date(0).toISOString()],
      [new Date(0), 0],
      [
        [1, 2],
        [2, 1],
      ],
      ['1', 1],
      [true, 'true'],
      [[], {}],
      [[[]], []],
    ]
    for (const [a, b] of differs)
      expect(cacheKey(a), `${String(a)} vs ${String(b)}`).not.toBe(cacheKey(b))
    // What a JSON.stringify key would have conflated:
    expect(JSON.stringify([undefined])).toBe(JSON.stringify([null]))
    expect(JSON.stringify(new Map([['a', 1]]))).toBe(JSON.stringify(new Map([['a', 2]])))
  })

  it('F4: a separator inside a part never fakes a boundary', () => {
    const lists: unknown[][] = [
      ['1|x'],
      ['1', 'x'],
      ['1|', 'x'],
      ['1', '|x'],
      [':'],
      ['', ':'],
      [':', ''],
      ['', '', ''],
      [''],
      [],
      ['s1:a'],
      ['a'],
      [['a']],
      ['a', []],
      [1, 'x'],
      ['1x'],
    ]
    const keys = lists.map((l) => cacheKey(...l))
    expect(new Set(keys).size).toBe(lists.length)
  })

  it('F4: injective — distinct part lists give distinct keys, equal ones equal keys (property)', () => {
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        expect(cacheKey(...a) === cacheKey(...b)).toBe(same(a, b))
      }),
      { numRuns: 2_000 },
    )
  })

  it('F4: every key reads back into exactly the parts it came from, so no two lists share one (property)', () => {
    fc.assert(
      fc.property(parts, (a) => {
        const decoded = decode(cacheKey(...a))
        expect(JSON.stringify(decoded.map(canonDecoded))).toBe(JSON.stringify(a.map(canon)))
      }),
      { numRuns: 2_000 },
    )
  })

  it('F4: splitting the same text differently never gives the same key (property)', () => {
    const separators = fc.constantFrom(':', '|', ';', ',', 's', '1')
    fc.assert(
      fc.property(fc.array(tricky, { minLength: 1, maxLength: 4 }), separators, (a, sep) => {
        const b = a.join(sep).split(sep)
        expect(cacheKey(...a) === cacheKey(...b)).toBe(same(a, b))
        expect(cacheKey(a.join(sep)) === cacheKey(...a)).toBe(a.length === 1)
      }),
      { numRuns: 2_000 },
    )
  })

  it('F4: equal values built differently (key order, insertion order, -0) give one key (property)', () => {
    fc.assert(
      fc.property(parts, (a) => {
        const b = a.map(rebuild)
        expect(same(a, b)).toBe(true)
        expect(cacheKey(...b)).toBe(cacheKey(...a))
      }),
      { numRuns: 1_000 },
    )
  })

  it('F4: near-identical lists made of separator characters never collide (property)', () => {
    const flat = fc.array(fc.oneof(tricky, fc.integer({ min: 0, max: 20 })), { maxLength: 5 })
    fc.assert(
      fc.property(flat, flat, (a, b) => {
        expect(cacheKey(...a) === cacheKey(...b)).toBe(same(a, b))
      }),
      { numRuns: 3_000 },
    )
  })

  it('the single-part fast path encodes like the general path', () => {
    for (const v of ['', 'a', '1|x', 0, -0, 1.5, NaN, -Infinity]) {
      expect(cacheKey(v)).toBe(cacheKey(v, 'x').slice(0, -cacheKey('x').length))
      expect(cacheKey([v])).toBe(`a1:${cacheKey(v)}`)
    }
  })

  it('allows a shared reference that is not a cycle', () => {
    const shared = { id: 1 }
    expect(cacheKey([shared, shared])).toBe(cacheKey([{ id: 1 }, { id: 1 }]))
    expect(cacheKey({ a: shared, b: shared })).toBe(cacheKey({ a: { id: 1 }, b: { id: 1 } }))
  })

  it('accepts objects without a prototype as plain objects', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 })
    expect(cacheKey(bare)).toBe(cacheKey({ a: 1 }))
  })

  describe('refuses what it cannot encode faithfully, saying where and how to fix it', () => {
    it('BigInt', () => {
      expect(() => cacheKey('user', { id: 12n })).toThrow(TypeError)
      expect(() => cacheKey('user', { id: 12n })).toThrow(
        'cacheKey(): parts[1].id is a BigInt (12n), which cannot be part of a cache key. Convert the BigInt to a string first',
      )
    })

    it('cycles', () => {
      const node: { name: string; self?: unknown } = { name: 'a' }
      node.self = node
      expect(() => cacheKey(node)).toThrow(
        /parts\[0\]\.self is a reference back to an object that contains it \(a cycle\)/,
      )
      const list: unknown[] = [1]
      list.push(list)
      expect(() => cacheKey(list)).toThrow(/parts\[0\]\[1\] .*cycle/)
      const map = new Map<string, unknown>()
      map.set('me', map)
      expect(() => cacheKey(map)).toThrow(/in a Map entry.*cycle/)
    })

    it('F3: a part nested 10,000 deep is refused with a FanoutError naming the depth limit, not a stack overflow', () => {
      const nest = (depth: number, wrap: (inner: unknown) => unknown): unknown => {
        let value: unknown = 1
        for (let i = 0; i < depth; i++) value = wrap(value)
        return value
      }
      const wraps: Record<string, (inner: unknown) => unknown> = {
        array: (inner) => [inner],
        object: (inner) => ({ next: inner }),
        map: (inner) => new Map([['k', inner]]),
        set: (inner) => new Set([inner]),
      }
      for (const [kind, wrap] of Object.entries(wraps)) {
        let thrown: unknown
        try {
          cacheKey('user', nest(10_000, wrap))
        } catch (error) {
          thrown = error
        }
        expect(thrown, kind).toBeInstanceOf(InvalidArgumentError)
        expect(isFanoutError(thrown, 'FANOUT_INVALID_ARGUMENT'), kind).toBe(true)
        expect((thrown as Error).message, kind).toMatch(
          /^cacheKey\(\): parts\[1\].*… nests arrays, objects, Maps or Sets more than 100 levels deep, the most a cache key may have\./,
        )
      }
      expect(() => cacheKey(nest(10_000, wraps.object!))).toThrow(
        'cacheKey(): parts[0].next.next.next… nests',
      )
    })

    it('the depth limit is exact: 100 levels encode, 101 do not', () => {
      expect(MAX_KEY_DEPTH).toBe(100)
      let value: unknown = 'leaf'
      for (let i = 0; i < MAX_KEY_DEPTH; i++) value = [value]
      expect(cacheKey(value)).toBe('a1:'.repeat(MAX_KEY_DEPTH) + 's4:leaf')
      expect(() => cacheKey([value])).toThrow(InvalidArgumentError)
      // Depth counts nesting, not size: a wide, shallow part is fine.
      expect(cacheKey(Array.from({ length: 10_000 }, (_, i) => ({ i })))).toMatch(/^a10000:/)
    })

    it('functions', () => {
      function loadUser(): void {}
      expect(() => cacheKey({ fn: loadUser })).toThrow(
        'cacheKey(): parts[0].fn is a function (loadUser), which cannot be part of a cache key. Functions cannot be compared by value',
      )
    })

    it('symbols, symbol keys and class instances', () => {
      expect(() => cacheKey(Symbol('s'))).toThrow(
        /parts\[0\] is a symbol \(Symbol\(s\)\).*use a string instead/,
      )
      expect(() => cacheKey({ [Symbol('k')]: 1 })).toThrow(/symbol-keyed property/)
      class User {
        id = 1
      }
      expect(() => cacheKey(new User())).toThrow(
        /parts\[0\] is an instance of User.*pass the fields that identify it/,
      )
      expect(() => cacheKey({ 'a b': new URL('https://example.com') })).toThrow(
        /parts\[0\]\["a b"\] is an instance of URL.*url\.href/,
      )
      expect(() => cacheKey(new Uint8Array(2))).toThrow(/instance of Uint8Array/)
    })
  })
})
