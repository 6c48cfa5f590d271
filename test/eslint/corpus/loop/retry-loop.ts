// expect: none
// A retry loop with a pause between attempts.
declare function fetchOnce(): Promise<Response>
declare function sleep(ms: number): Promise<void>

export async function withRetry() {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await fetchOnce()
    } catch {
      await sleep(100 * 2 ** attempt)
    }
  }
  throw new Error('gave up')
}
