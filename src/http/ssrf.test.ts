import type { LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../core/errors.js'
import { SsrfBlockedError } from './errors.js'
import { embeddedIPv4, ipv6Words, parseSsrfOptions, type SsrfGuard } from './ssrf.js'

const guard = (ssrf?: unknown): SsrfGuard => parseSsrfOptions('test', ssrf)!

/** What a URL's hostname becomes after WHATWG parsing, then the guard's verdict on it. */
const verdictOf = (g: SsrfGuard, host: string): string | undefined =>
  g.checkHostname(new URL(`http://${host}/`).hostname)?.rule

describe('SSRF guard: addresses', () => {
  it('I2: every encoding of loopback and of 169.254.169.254 is refused on the parsed address', () => {
    const g = guard()
    const cases: Array<[string, string]> = [
      ['127.1', 'loopback'],
      ['0x7f.0.0.1', 'loopback'],
      ['2130706433', 'loopback'],
      ['017700000001', 'loopback'],
      ['0177.0.0.1', 'loopback'],
      ['①②⑦.0.0.1', 'loopback'],
      ['[::1]', 'loopback'],
      ['[000:0:0000::01]', 'loopback'],
      ['[::ffff:7f00:1]', 'loopback'],
      ['[0:0:0:0:0:ffff:127.0.0.1]', 'loopback'],
      ['0', 'unspecified'],
      ['[::]', 'unspecified'],
      ['169.254.169.254', 'metadata'],
      ['2852039166', 'metadata'],
      ['0xA9FEA9FE', 'metadata'],
      ['0251.0376.0251.0376', 'metadata'],
      ['169.254.43518', 'metadata'],
      ['[::ffff:a9fe:a9fe]', 'metadata'],
      ['[64:ff9b::a9fe:a9fe]', 'metadata'],
      ['[2002:a9fe:a9fe::]', 'metadata'],
      ['[::169.254.169.254]', 'metadata'],
      ['[::ffff:0:a9fe:a9fe]', 'metadata'],
      ['[fd00:ec2::254]', 'metadata'],
      ['169.254.1.1', 'link-local'],
      ['[fe80::1]', 'link-local'],
      ['10.0.0.1', 'private'],
      ['172.16.5.4', 'private'],
      ['192.168.1.1', 'private'],
      ['[fc00::1]', 'private'],
      ['100.64.0.1', 'shared'],
      ['224.0.0.1', 'multicast'],
      ['[ff02::1]', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['192.0.2.1', 'reserved'],
      ['[2001:db8::1]', 'reserved'],
      ['[64:ff9b:1::1]', 'reserved'],
      ['[2001::1]', 'reserved'],
      ['[::2]', 'reserved'],
      ['localhost', 'loopback'],
      ['localhost.', 'loopback'],
      ['LOCALHOST', 'loopback'],
      ['api.localhost', 'loopback'],
    ]
    for (const [host, rule] of cases) expect([host, verdictOf(g, host)]).toEqual([host, rule])
  })

  it('I2: public unicast addresses and plain names pass (names are judged when they resolve)', () => {
    const g = guard()
    for (const host of [
      '93.184.215.14',
      '8.8.8.8',
      '[2606:4700::1111]',
      '[2002:808:808::]',
      '[64:ff9b::808:808]',
      '[::ffff:808:808]',
      'example.com',
      '127.0.0.1.nip.io',
    ]) {
      expect([host, verdictOf(g, host)]).toEqual([host, undefined])
    }
  })

  it('allow opens rules by name; metadata stays closed unless its CIDR is allowed', () => {
    const open = guard({ allow: ['loopback', 'private', 'link-local'] })
    expect(verdictOf(open, '127.0.0.1')).toBeUndefined()
    expect(verdictOf(open, '[::1]')).toBeUndefined()
    expect(verdictOf(open, 'localhost')).toBeUndefined()
    expect(verdictOf(open, '10.1.2.3')).toBeUndefined()
    expect(verdictOf(open, '[fe80::1]')).toBeUndefined()
    expect(verdictOf(open, '169.254.169.254')).toBe('metadata')
    expect(verdictOf(open, '[fd00:ec2::254]')).toBe('metadata')
    expect(verdictOf(open, '100.64.0.1')).toBe('shared')
    const cidr = guard({ allow: ['169.254.169.254/32', '100.64.0.0/10'] })
    expect(verdictOf(cidr, '169.254.169.254')).toBeUndefined()
    expect(verdictOf(cidr, '[::ffff:a9fe:a9fe]')).toBeUndefined()
    expect(verdictOf(cidr, '100.64.3.3')).toBeUndefined()
    expect(verdictOf(cidr, '127.0.0.1')).toBe('loopback')
  })

  it('deny adds ranges, and wins over allow (also through an IPv4-in-IPv6 form)', () => {
    const g = guard({ allow: ['loopback'], deny: ['127.0.0.2/32', '93.184.0.0/16'] })
    expect(verdictOf(g, '127.0.0.1')).toBeUndefined()
    expect(verdictOf(g, '127.0.0.2')).toBe('deny')
    expect(verdictOf(g, '93.184.215.14')).toBe('deny')
    expect(verdictOf(g, '[::ffff:5db8:d70e]')).toBe('deny')
  })

  it('ssrf: false turns the guard off; bad options fail with clear messages', () => {
    expect(parseSsrfOptions('test', false)).toBeUndefined()
    expect(() => guard({ allow: ['loopbak'] })).toThrow(/not a rule name .*Did you mean 'loopback'/)
    expect(() => guard({ allow: ['10.0.0.0/33'] })).toThrow(InvalidOptionError)
    expect(() => guard({ deny: ['private'] })).toThrow(/ssrf.deny.*CIDR/)
    expect(() => guard({ alow: [] })).toThrow(
      /unknown option `ssrf.alow`. Did you mean `ssrf.allow`\?/,
    )
    expect(() => guard('loopback')).toThrow(/`ssrf` must be \{ allow\?, deny\? \} or false/)
    expect(() => guard({ allow: 'loopback' })).toThrow(/must be an array/)
  })

  it('the blocked error names the rule, the address and how to open it', () => {
    const v = guard().checkHostname('[::ffff:a9fe:a9fe]')!
    const error = new SsrfBlockedError(v, '[::ffff:a9fe:a9fe]', 'http://[::ffff:a9fe:a9fe]/latest')
    expect(error.rule).toBe('metadata')
    expect(error.address).toBe('::ffff:a9fe:a9fe')
    expect(error.message).toContain('embeds 169.254.169.254')
    expect(error.message).toContain("allow: ['169.254.169.254/32']")
    expect(error.code).toBe('FANOUT_HTTP_SSRF')
  })
})

describe('SSRF guard: IPv6 parsing', () => {
  it('expands every IPv6 form to eight words, refusing zone ids and malformed text', () => {
    expect(ipv6Words('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1])
    expect(ipv6Words('2002:a9fe:a9fe::')).toEqual([0x2002, 0xa9fe, 0xa9fe, 0, 0, 0, 0, 0])
    expect(ipv6Words('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304])
    expect(ipv6Words('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(ipv6Words('fe80::1%eth0')).toBeUndefined()
    expect(ipv6Words('1::2::3')).toBeUndefined()
    expect(ipv6Words('1:2:3:4:5:6:7:8:9')).toBeUndefined()
    expect(embeddedIPv4(ipv6Words('64:ff9b::7f00:1')!)).toBe('127.0.0.1')
    expect(embeddedIPv4(ipv6Words('::1')!)).toBeUndefined()
    expect(embeddedIPv4(ipv6Words('2606:4700::1111')!)).toBeUndefined()
  })
})

describe('SSRF guard: the connector lookup', () => {
  const stub =
    (answers: LookupAddress[] | Error): LookupFunction =>
    (_hostname, _options, callback) =>
      answers instanceof Error
        ? callback(answers as NodeJS.ErrnoException, '', 0)
        : callback(null, answers)
  const resolve = (lookup: LookupFunction, all: boolean): Promise<unknown> =>
    new Promise((ok, fail) =>
      lookup('service.test', { all }, (error, address, family) =>
        error ? fail(error) : ok(all ? address : [address, family]),
      ),
    )

  it('I3: a name that resolves to a private or metadata address is refused with the address named', async () => {
    const g = guard()
    const refused = await resolve(
      g.lookup(stub([{ address: '169.254.169.254', family: 4 }])),
      false,
    ).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(SsrfBlockedError)
    expect(refused).toMatchObject({
      rule: 'metadata',
      address: '169.254.169.254',
      hostname: 'service.test',
    })
    expect((refused as Error).message).toContain('resolved from service.test')
  })

  it('I3: one refused answer among allowed ones refuses the name', async () => {
    const g = guard({ allow: ['loopback'] })
    const answers = [
      { address: '127.0.0.1', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ]
    await expect(resolve(g.lookup(stub(answers)), true)).rejects.toMatchObject({
      rule: 'private',
      address: '10.0.0.7',
    })
  })

  it('answers in the shape asked for, passes resolver errors through, and treats an empty answer as ENOTFOUND', async () => {
    const g = guard()
    const answers = [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ]
    await expect(resolve(g.lookup(stub(answers)), true)).resolves.toEqual(answers)
    await expect(resolve(g.lookup(stub(answers)), false)).resolves.toEqual(['93.184.215.14', 4])
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND service.test'), {
      code: 'ENOTFOUND',
    })
    await expect(resolve(g.lookup(stub(notFound)), false)).rejects.toBe(notFound)
    await expect(resolve(g.lookup(stub([])), false)).rejects.toMatchObject({ code: 'ENOTFOUND' })
    // A resolver that ignores `all` and answers with one address still works.
    const single: LookupFunction = (_h, _o, callback) => callback(null, '93.184.215.14', 4)
    await expect(resolve(g.lookup(single), true)).resolves.toEqual([
      { address: '93.184.215.14', family: 4 },
    ])
    await expect(
      resolve(g.lookup(stub([{ address: 'not-an-ip', family: 4 }])), false),
    ).rejects.toMatchObject({ rule: 'invalid' })
  })
})
