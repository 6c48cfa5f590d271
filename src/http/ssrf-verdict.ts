/**
 * What the SSRF guard decided about an address. Its own module so the errors can carry it
 * without importing the guard, which raises those errors.
 */
export interface SsrfVerdict {
  readonly rule: string
  readonly address: string
  /** The IPv4 address an IPv6 address carries, when that is what was judged. */
  readonly embedded: string | undefined
  readonly description: string
  /** How to open it, for the error message. */
  readonly hint: string
}
