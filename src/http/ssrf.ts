/**
 * The SSRF guard: by default only public unicast addresses may be dialled.
 *
 * It checks parsed addresses, never strings: an IP literal in the URL before anything connects
 * (WHATWG `URL` has already turned `127.1`, `0x7f.0.0.1`, `2130706433` and `①②⑦.0.0.1` into
 * `127.0.0.1`), and every DNS answer inside the connector's `lookup`, so the address actually
 * dialled is the one checked — a name that resolves to a private address, or that rebinds
 * between two connections, is caught (I1–I4). IPv6 forms that carry an IPv4 address (mapped,
 * translated, compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that address.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP, isIPv4, type LookupFunction } from 'node:net'
import { InvalidOptionError } from '../core/errors.js'
import { closest, show } from '../core/validate.js'
import { SsrfBlockedError } from './errors.js'
import type { SsrfVerdict } from './ssrf-verdict.js'

export type { SsrfVerdict }

/** The built-in rules that `allow` may open by name. */
export const ALLOWABLE_RULES = ['loopback', 'private', 'link-local'] as const
type AllowableRule = (typeof ALLOWABLE_RULES)[number]

interface Rule {
  readonly name: string
  readonly description: string
  readonly v4: readonly string[]
  readonly v6: readonly string[]
}

// First match wins: `metadata` comes before `link-local` and `private`, so opening those by name
// does not open the cloud metadata endpoints (only an explicit CIDR in `allow` does).
const RULES: readonly Rule[] = [
  {
    name: 'unspecified',
    description: 'an unspecified ("this host") address',
    v4: ['0.0.0.0/8'],
    v6: ['::/128'],
  },
  { name: 'loopback', description: 'a loopback address', v4: ['127.0.0.0/8'], v6: ['::1/128'] },
  {
    name: 'metadata',
    description: 'a cloud metadata endpoint',
    v4: ['169.254.169.254/32', '169.254.170.2/32', '169.254.169.123/32', '100.100.100.200/32'],
    v6: ['fd00:ec2::254/128'],
  },
  {
    name: 'link-local',
    description: 'a link-local address',
    v4: ['169.254.0.0/16'],
    v6: ['fe80::/10'],
  },
  {
    name: 'private',
    description: 'a private address',
    v4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    v6: ['fc00::/7'],
  },
  {
    name: 'shared',
    description: 'a carrier-grade NAT (shared) address',
    v4: ['100.64.0.0/10'],
    v6: [],
  },
  { name: 'multicast', description: 'a multicast address', v4: ['224.0.0.0/4'], v6: ['ff00::/8'] },
  {
    name: 'reserved',
    description: 'a reserved, documentation or special-purpose address',
    v4: [
      '192.0.0.0/24',
      '192.0.2.0/24',
      '198.18.0.0/15',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '240.0.0.0/4',
    ],
    // 2001::/23 holds Teredo, benchmarking and ORCHID; 64:ff9b:1::/48 is local-use NAT64.
    v6: ['2001::/23', '2001:db8::/32', '64:ff9b:1::/48', 'fec0::/10', '100::/64'],
  },
]

interface CompiledRule extends Rule {
  readonly list: BlockList
}

const COMPILED: readonly CompiledRule[] = RULES.map((rule) => {
  const list = new BlockList()
  for (const cidr of rule.v4) addCidr(list, cidr)
  for (const cidr of rule.v6) addCidr(list, cidr)
  return { ...rule, list }
})

function addCidr(list: BlockList, cidr: string): void {
  const parsed = parseCidr(cidr)
  if (parsed === undefined) throw new Error(`bad built-in CIDR ${cidr}`)
  list.addSubnet(parsed.address, parsed.prefix, parsed.family)
}

/** `a.b.c.d/n`, `v6/n` or a bare address (a /32 or /128). */
function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/')
  const address = slash < 0 ? text : text.slice(0, slash)
  const version = isIP(address)
  if (version === 0) return undefined
  const max = version === 4 ? 32 : 128
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(prefixText)) return undefined
  const prefix = Number(prefixText)
  if (prefix > max) return undefined
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }
}

/** The eight 16-bit words of an IPv6 address, or undefined if it is not one (zone ids are refused). */
export function ipv6Words(address: string): number[] | undefined {
  if (address.includes('%')) return undefined
  let text = address.toLowerCase()
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two words.
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return undefined
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const parse = (part: string): number[] | undefined => {
    if (part === '') return []
    const words = part.split(':').map((w) => (/^[0-9a-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN))
    return words.some(Number.isNaN) ? undefined : words
  }
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  if (head === undefined || rest === undefined) return undefined
  if (halves.length === 1) return head.length === 8 ? head : undefined
  const fill = 8 - head.length - rest.length
  if (fill < 1) return undefined
  return [...head, ...new Array<number>(fill).fill(0), ...rest]
}

const v4Of = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`

/** The IPv4 address an IPv6 address carries (mapped, translated, compatible, NAT64, 6to4), if any. */
export function embeddedIPv4(w: readonly number[]): string | undefined {
  const zeros = (from: number, to: number): boolean => {
    for (let i = from; i < to; i++) if (w[i] !== 0) return false
    return true
  }
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated)
  if (zeros(0, 5) && w[5] === 0xffff) return v4Of(w[6]!, w[7]!)
  if (zeros(0, 4) && w[4] === 0xffff && w[5] === 0) return v4Of(w[6]!, w[7]!)
  // ::a.b.c.d (deprecated compatible form); ::, ::1 … ::ffff are not
  if (zeros(0, 6) && w[6] !== 0) return v4Of(w[6]!, w[7]!)
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
  if (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6)) return v4Of(w[6]!, w[7]!)
  // 2002:AABB:CCDD::/48 (6to4)
  if (w[0] === 0x2002) return v4Of(w[1]!, w[2]!)
  return undefined
}

export interface SsrfOptions {
  readonly allow?: readonly string[]
  readonly deny?: readonly string[]
}

const KNOWN_SSRF = ['allow', 'deny'] as const

export class SsrfGuard {
  readonly #open: ReadonlySet<string>
  readonly #allow: BlockList | undefined
  readonly #deny: BlockList | undefined

  constructor(
    open: ReadonlySet<AllowableRule>,
    allow: BlockList | undefined,
    deny: BlockList | undefined,
  ) {
    this.#open = open
    this.#allow = allow
    this.#deny = deny
  }

  /** The verdict on one address: undefined when it may be dialled. */
  checkAddress(address: string): SsrfVerdict | undefined {
    const version = isIP(address)
    if (version === 0)
      return verdict(
        'invalid',
        address,
        undefined,
        'not an IP address',
        'The resolver returned something that is not an address.',
      )
    let embedded: string | undefined
    let words: number[] | undefined
    if (version === 6) {
      words = ipv6Words(address)
      if (words === undefined)
        return verdict(
          'invalid',
          address,
          undefined,
          'not a plain IPv6 address (zone ids are refused)',
          '',
        )
      embedded = embeddedIPv4(words)
    }
    const family = version === 4 ? 'ipv4' : 'ipv6'
    const matches = (list: BlockList | undefined): boolean =>
      list !== undefined &&
      (list.check(address, family) || (embedded !== undefined && list.check(embedded, 'ipv4')))
    if (matches(this.#deny))
      return verdict(
        'deny',
        address,
        embedded,
        'in a range listed in ssrf.deny',
        'Remove it from ssrf.deny to allow it.',
      )
    if (matches(this.#allow)) return undefined
    const target = embedded ?? address
    const targetFamily = embedded !== undefined ? 'ipv4' : family
    for (const rule of COMPILED) {
      if (!rule.list.check(target, targetFamily)) continue
      if (this.#open.has(rule.name)) return undefined
      const hint = (ALLOWABLE_RULES as readonly string[]).includes(rule.name)
        ? `If this client must reach such addresses, pass ssrf: { allow: ['${rule.name}'] }.`
        : `If this client must reach it, allow its CIDR explicitly, e.g. ssrf: { allow: ['${target}/${targetFamily === 'ipv4' ? 32 : 128}'] }.`
      return verdict(rule.name, address, embedded, rule.description, hint)
    }
    // Outside 2000::/3 nothing is global unicast.
    if (embedded === undefined && words !== undefined && (words[0]! & 0xe000) !== 0x2000) {
      return verdict(
        'reserved',
        address,
        undefined,
        'not a global unicast IPv6 address',
        `Allow it explicitly, e.g. ssrf: { allow: ['${address}/128'] }.`,
      )
    }
    return undefined
  }

  /**
   * The verdict on a URL's hostname before any connection: IP literals are judged here (the
   * connector's lookup never sees them), and names under `localhost` are loopback by definition
   * (RFC 6761). Other names are judged when they resolve.
   */
  checkHostname(hostname: string): SsrfVerdict | undefined {
    if (hostname.startsWith('[')) return this.checkAddress(hostname.slice(1, -1))
    if (isIPv4(hostname)) return this.checkAddress(hostname)
    const name = hostname.endsWith('.')
      ? hostname.slice(0, -1).toLowerCase()
      : hostname.toLowerCase()
    if ((name === 'localhost' || name.endsWith('.localhost')) && !this.#open.has('loopback')) {
      return verdict(
        'loopback',
        hostname,
        undefined,
        'a loopback name',
        "If this client must reach such addresses, pass ssrf: { allow: ['loopback'] }.",
      )
    }
    return undefined
  }

  /**
   * Wraps a resolver so every answer is checked before the socket dials it. The wrapped resolver
   * is always asked for every address (`all: true`), and the request fails if any of them is
   * refused: a name that mixes public and private answers is not trusted with either.
   */
  lookup(base: LookupFunction = dnsLookup as unknown as LookupFunction): LookupFunction {
    return (hostname, options, callback) => {
      const all = (options as LookupOptions).all === true
      base(hostname, { ...options, all: true }, (error, answer, family) => {
        if (error) return callback(error, all ? [] : '', 0)
        const addresses: LookupAddress[] =
          typeof answer === 'string'
            ? [{ address: answer, family: family ?? isIP(answer) }]
            : answer
        if (addresses.length === 0) {
          const notFound = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
            code: 'ENOTFOUND',
            hostname,
          })
          return callback(notFound, all ? [] : '', 0)
        }
        for (const { address } of addresses) {
          const refused = this.checkAddress(address)
          if (refused !== undefined)
            return callback(new SsrfBlockedError(refused, hostname), all ? [] : '', 0)
        }
        if (all) callback(null, addresses)
        else callback(null, addresses[0]!.address, addresses[0]!.family)
      })
    }
  }
}

function verdict(
  rule: string,
  address: string,
  embedded: string | undefined,
  description: string,
  hint: string,
): SsrfVerdict {
  return { rule, address, embedded, description, hint }
}

/** `ssrf` from the client options: a guard, or undefined for `ssrf: false`. */
export function parseSsrfOptions(where: string, value: unknown): SsrfGuard | undefined {
  if (value === false) return undefined
  if (value === undefined) return new SsrfGuard(new Set(), undefined, undefined)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${where}: \`ssrf\` must be { allow?, deny? } or false, got ${show(value)}.`,
    )
  }
  const open = new Set<AllowableRule>()
  let allow: BlockList | undefined
  let deny: BlockList | undefined
  for (const key of Object.keys(value)) {
    const list = (value as Record<string, unknown>)[key]
    if (key !== 'allow' && key !== 'deny') {
      const guess = closest(key, KNOWN_SSRF)
      throw new InvalidOptionError(
        `${where}: unknown option \`ssrf.${key}\`.${guess !== undefined ? ` Did you mean \`ssrf.${guess}\`?` : ''} Known options: \`ssrf.allow\`, \`ssrf.deny\`.`,
      )
    }
    if (list === undefined) continue
    if (!Array.isArray(list))
      throw new InvalidOptionError(
        `${where}: \`ssrf.${key}\` must be an array of strings, got ${show(list)}.`,
      )
    for (const entry of list as unknown[]) {
      if (typeof entry !== 'string')
        throw new InvalidOptionError(
          `${where}: \`ssrf.${key}\` must hold strings, got ${show(entry)}.`,
        )
      if (key === 'allow' && (ALLOWABLE_RULES as readonly string[]).includes(entry)) {
        open.add(entry as AllowableRule)
        continue
      }
      const cidr = parseCidr(entry)
      if (cidr === undefined) {
        const guess = key === 'allow' ? closest(entry, ALLOWABLE_RULES) : undefined
        throw new InvalidOptionError(
          `${where}: \`ssrf.${key}\` entry ${show(entry)} is not ${key === 'allow' ? `a rule name (${ALLOWABLE_RULES.map((r) => `'${r}'`).join(', ')}) or ` : ''}a CIDR such as '10.1.0.0/16' or 'fd00::/8'.` +
            (guess !== undefined ? ` Did you mean '${guess}'?` : ''),
        )
      }
      const target = key === 'allow' ? (allow ??= new BlockList()) : (deny ??= new BlockList())
      target.addSubnet(cidr.address, cidr.prefix, cidr.family)
    }
  }
  return new SsrfGuard(open, allow, deny)
}

/** The guard's refusal of some address `hostname` resolves to; undefined when every answer may be dialled or it does not resolve here. */
export function refusalOf(
  guarded: LookupFunction,
  hostname: string,
): Promise<SsrfBlockedError | undefined> {
  return new Promise((resolve) =>
    guarded(hostname, { all: true }, (error) =>
      resolve(error instanceof SsrfBlockedError ? error : undefined),
    ),
  )
}
