import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError, isFanoutError } from '../index.js'
import { formatLinkHeader, nextLink, parseLinkHeader, type LinkEntry } from './link.js'
import { PaginationError } from './paginate.js'

const entry = (
  uri: string,
  rel: string[] = [],
  params: Record<string, string> = {},
): LinkEntry => ({ uri, rel, params })

describe('parseLinkHeader()', () => {
  it('reads links with relations and parameters (RFC 8288)', () => {
    const header =
      '<https://api.example/items?page=2>; rel="next"; title="x", <https://api.example/items?page=9>; rel="prev LAST"'
    expect(parseLinkHeader(header)).toEqual([
      entry('https://api.example/items?page=2', ['next'], { title: 'x' }),
      entry('https://api.example/items?page=9', ['prev', 'last']),
    ])
  })

  it('reads quoted strings with escapes, and commas or semicolons inside quotes and inside <…>', () => {
    const header = String.raw`<https://a.example/x?ids=1,2;3>; rel=next; title="a, \"b\"; c\\", <https://a.example/y>; rel="prev"`
    expect(parseLinkHeader(header)).toEqual([
      entry('https://a.example/x?ids=1,2;3', ['next'], { title: 'a, "b"; c\\' }),
      entry('https://a.example/y', ['prev']),
    ])
  })

  it('is lenient with whitespace, case, unquoted values and bare parameters', () => {
    const header =
      ' \t<  /p?page=2 >\t;REL = Next ;TYPE=text/html;  crossorigin ,<c>;rel="  a\tB  "'
    expect(parseLinkHeader(header)).toEqual([
      entry('/p?page=2', ['next'], { type: 'text/html', crossorigin: '' }),
      entry('c', ['a', 'b']),
    ])
  })

  it('keeps the first occurrence of a parameter, rel included (RFC 8288 §3)', () => {
    expect(parseLinkHeader('<a>; rel=next; rel=prev; title=one; TITLE=two')).toEqual([
      entry('a', ['next'], { title: 'one' }),
    ])
  })

  it('skips bad segments and bad parameters, and keeps the rest', () => {
    const header =
      'junk, "quoted, junk", <a>; ;; =x; @bad=1; rel=next; title="ok" trailing, <b> <c>; rel=x, <d>; title="never closed, <e>; rel=next'
    expect(parseLinkHeader(header)).toEqual([
      entry('a', ['next'], { title: 'ok' }),
      entry('b'),
      entry('c', ['x']),
      entry('d'),
    ])
  })

  it('gives [] for an absent, empty or link-less header', () => {
    for (const value of [undefined, null, '', '   ', ',,,', 'no links here', '<unterminated'])
      expect(parseLinkHeader(value)).toEqual([])
  })

  it('I10: a parameter named __proto__ is just a key; Object.prototype stays untouched', () => {
    const [link] = parseLinkHeader('<a>; __proto__="polluted"; constructor=x; rel=next')
    expect(link!.params['__proto__']).toBe('polluted')
    expect(Object.keys(link!.params)).toEqual(['__proto__', 'constructor'])
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(Object.getPrototypeOf({})).toBe(Object.prototype)
  })

  describe('I11: crafted headers parse in linear time', () => {
    // No timing assertion (it would flake on a slow machine): a quadratic parser needs ~10^13
    // steps on 5 M characters and cannot finish within the test timeout; a linear one takes
    // milliseconds. The results are checked, so a parser that gives up early fails too.
    const crafted = (n: number): [string, string, LinkEntry[]][] => [
      ['many <', '<'.repeat(n), []],
      ['many < then >', `${'<'.repeat(n)}>`, [entry('<'.repeat(n - 1))]],
      ['many <a', '<a'.repeat(n / 2), []],
      ['many ;', `<a>${';'.repeat(n)}`, [entry('a')]],
      ['many "; rel="', `<a>${'; rel='.repeat(n / 6)}`, [entry('a')]],
      [
        'an unterminated quote full of escapes',
        `<a>; rel=next; title="${'\\"'.repeat(n / 2)}`,
        [entry('a', ['next'])],
      ],
      ['many quotes', `<a>; rel=next ${'"'.repeat(n + 1)}`, [entry('a', ['next'])]],
      ['a run of whitespace', `<a>${' '.repeat(n)}; rel=next`, [entry('a', ['next'])]],
      ['junk without commas', 'x'.repeat(n), []],
      ['< ; repeated (parse-link-header CVE-2021-23490)', `<${' ;'.repeat(n / 2)}`, []],
      ['< , repeated', '<,'.repeat(n / 2), []],
      [
        'a long quoted title',
        `<a>; title="${'x,;<>'.repeat(n / 5)}"; rel=next`,
        [entry('a', ['next'], { title: 'x,;<>'.repeat(n / 5) })],
      ],
    ]

    for (const n of [50_000, 5_000_000]) {
      for (const [name, header, expected] of crafted(n)) {
        it(`I11: ${name}, ${n.toLocaleString('en')} characters`, () => {
          expect(header.length).toBeGreaterThanOrEqual(n)
          const parsed = parseLinkHeader(header)
          expect(parsed).toEqual(expected)
        })
      }
    }

    it('I11: 50,000 characters of valid links give every link', () => {
      const one = '<https://a.example/p?page=1>; rel="next"; title="t, u", '
      const header = one.repeat(Math.ceil(50_000 / one.length))
      const parsed = parseLinkHeader(header)
      expect(parsed).toHaveLength(Math.ceil(50_000 / one.length))
      expect(
        parsed.every(
          (l) =>
            l.uri === 'https://a.example/p?page=1' &&
            l.rel[0] === 'next' &&
            l.params['title'] === 't, u',
        ),
      ).toBe(true)
    })
  })

  it('parse(format(links)) round-trips generated links', () => {
    const token = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,8}$/)
    const uri = fc
      .oneof(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.string({
          unit: fc.constantFrom('a', '/', '?', '=', '&', ',', ';', '"', ' ', '\\', 'é'),
          maxLength: 12,
        }),
      )
      .map((s) => s.trim())
      .filter((s) => !/[<>]/.test(s))
    const value = fc.oneof(
      fc.string({
        unit: fc.constantFrom('a', ' ', ',', ';', '"', '\\', '<', '>', '=', '\t'),
        maxLength: 12,
      }),
      fc
        .string({ unit: 'grapheme', maxLength: 8 })
        .filter((s) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(s)),
    )
    const link = fc.record({
      uri,
      rel: fc.array(token, { maxLength: 3 }),
      params: fc.dictionary(
        token.filter((k) => k !== 'rel'),
        value,
        { maxKeys: 4 },
      ),
    })
    fc.assert(
      fc.property(fc.array(link, { maxLength: 5 }), (links) => {
        expect(parseLinkHeader(formatLinkHeader(links))).toEqual(links)
      }),
      { numRuns: 300 },
    )
  })
})

describe('formatLinkHeader()', () => {
  it('quotes every value and joins links with commas', () => {
    expect(
      formatLinkHeader([
        { uri: '/p?page=2', rel: 'next' },
        { uri: '/p?page=9', rel: ['last', 'x'], params: { title: 'say "hi"' } },
      ]),
    ).toBe('</p?page=2>; rel="next", </p?page=9>; rel="last x"; title="say \\"hi\\""')
  })

  it('I12: refuses CR/LF and other control characters, a > in the URI, and a parameter name that is not a token', () => {
    expect(() =>
      formatLinkHeader([{ uri: '/a', params: { title: 'x\r\nSet-Cookie: a=b' } }]),
    ).toThrow(InvalidOptionError)
    expect(() => formatLinkHeader([{ uri: '/a\r\nX-Evil: 1' }])).toThrow(/control characters/)
    expect(() => formatLinkHeader([{ uri: '/a>; rel=admin, </b' }])).toThrow(/`>`/)
    expect(() => formatLinkHeader([{ uri: '/a', params: { 'ti tle': 'x' } }])).toThrow(/token/)
    expect(() => formatLinkHeader([{ uri: '/a', params: { rel: 'next' } }])).toThrow(
      /give relations in `rel`/,
    )
  })
})

describe('nextLink()', () => {
  it('finds rel="next" in a Headers object, a plain record (any case, arrays joined) or a response', () => {
    const link =
      '<https://api.example/items?page=3>; rel="prev", <https://api.example/items?page=5>; rel="next"'
    expect(nextLink(new Headers({ link }))).toBe('https://api.example/items?page=5')
    expect(nextLink({ Link: link })).toBe('https://api.example/items?page=5')
    expect(
      nextLink({
        link: ['<https://api.example/a>; rel=prev', '<https://api.example/b>; rel=next'],
      }),
    ).toBe('https://api.example/b')
    const response = { status: 200, headers: { link }, url: 'https://api.example/items?page=4' }
    expect(nextLink(response)).toBe('https://api.example/items?page=5')
    expect(nextLink({ headers: { link } }, { rel: 'PREV' })).toBe(
      'https://api.example/items?page=3',
    )
  })

  it('gives undefined without a Link header or without the relation', () => {
    expect(nextLink({})).toBeUndefined()
    expect(nextLink(new Headers())).toBeUndefined()
    expect(nextLink({ link: '<https://a.example/1>; rel=last' })).toBeUndefined()
  })

  it("resolves a relative target against the response's url or `base`", () => {
    const headers = { link: '<?page=2>; rel=next' }
    expect(nextLink({ headers, url: 'https://api.example/items?page=1' })).toBe(
      'https://api.example/items?page=2',
    )
    expect(nextLink(headers, { base: new URL('https://api.example/other/') })).toBe(
      'https://api.example/other/?page=2',
    )
    // Nothing to resolve against: returned as written, for the caller's own fetch function.
    expect(nextLink(headers)).toBe('?page=2')
  })

  it('I4/I13: refuses a link to another origin or a non-http scheme instead of following it', () => {
    const from = (link: string) => ({ headers: { link }, url: 'https://api.example/items' })
    const refused = (fn: () => unknown): PaginationError => {
      try {
        fn()
      } catch (error) {
        expect(error).toBeInstanceOf(PaginationError)
        expect(isFanoutError(error)).toBe(true)
        return error as PaginationError
      }
      throw new Error('expected a PaginationError')
    }
    expect(
      refused(() => nextLink(from('<https://169.254.169.254/latest/meta-data>; rel=next'))).message,
    ).toMatch(/another origin.*crossOrigin: true/)
    expect(
      refused(() => nextLink(from('<http://api.example/items?page=2>; rel=next'))).reason,
    ).toBe('link')
    expect(refused(() => nextLink(from('<file:///etc/passwd>; rel=next'))).message).toMatch(
      /file:, not http or https/,
    )
    expect(refused(() => nextLink({ link: '<javascript:alert(1)>; rel=next' })).message).toMatch(
      /javascript:/,
    )
    expect(
      nextLink(from('<https://cdn.example/items?page=2>; rel=next'), { crossOrigin: true }),
    ).toBe('https://cdn.example/items?page=2')
  })

  it('L4: validates its options', () => {
    expect(() => nextLink({ link: '</a>; rel=next' }, { base: '/relative' })).toThrow(
      /`base` must be an absolute URL, got "\/relative"/,
    )
    expect(() => nextLink({ link: '</a>; rel=next' }, { crossorigin: true } as never)).toThrow(
      /unknown option `crossorigin`. Did you mean `crossOrigin`\?/,
    )
    expect(() => nextLink({ link: '</a>; rel=next' }, { rel: '' })).toThrow(InvalidOptionError)
  })
})
