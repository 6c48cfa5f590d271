/**
 * J3: repeated calls do not keep memory. A child process with `--expose-gc` runs rounds of mixed
 * work through the public API (flows with gates, timeouts, fallbacks and aborts, limiters, a rate
 * limiter, a loader, a bounded cache fed new keys, the HTTP client with retries) and records the
 * heap after a full GC per round.
 *
 * The heap keeps creeping up for a while without any object being kept — V8 still compiling and
 * collecting feedback for hot code (a heap snapshot diff shows only code, bytecode and feedback
 * vectors), and undici's pools settling: measured on a 2-core machine, 80–100 KB over the 8,000
 * page loads of the second half of the run, i.e. ~11 bytes per load and falling. A leak of one
 * object per page load costs at least 24 bytes (header, one field, the slot that keeps it), so
 * the bar is 32 bytes per load over that half: 256 KB.
 */
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

function soak(rounds: number, perRound: number, extra: string[] = []): Promise<number[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(root, 'test', 'fixtures', 'heap-soak.ts'), String(rounds), String(perRound), ...extra],
      { cwd: root, timeout: 90_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`heap soak failed: ${error.message}\n${stderr}`))
        resolve((JSON.parse(stdout.trim().split('\n').at(-1)!) as { heap: number[] }).heap)
      },
    )
  })
}

describe('J3: memory under repeated calls', () => {
  it('J3: the heap stops growing: under 256 KB over the last 8,000 of 16,000 page loads', { timeout: 120_000 }, async () => {
    const heap = await soak(16, 1_000)
    const growth = heap.at(-1)! - heap[7]!
    expect(growth, `data heap after each round (MB): ${heap.map((b) => (b / 2 ** 20).toFixed(3)).join(' ')}`).toBeLessThan(256 * 1024)
  })
})
