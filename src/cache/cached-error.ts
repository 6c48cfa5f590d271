/** The error `cached()` replays from a negative cache entry. */
/**
 * A failure replayed from the cache (negative caching). It carries the original error's `status`
 * and `code`, so `statusOf`, `codeOf` and fallbacks treat it like the original; the original
 * message is never stored.
 */
export class CachedError extends Error {
  readonly status: number | undefined
  readonly code: string | undefined
  constructor(cache: string, status: number | null, code: string | null) {
    const what = [
      status !== null ? `status ${status}` : undefined,
      code !== null ? `code ${code}` : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(', ')
    super(
      `cached("${cache}"): this key failed recently (${what || 'no status or code'}) and the failure is cached for \`negative.ttl\`; the original message is not kept`,
    )
    this.name = 'CachedError'
    this.status = status ?? undefined
    this.code = code ?? undefined
  }
}
