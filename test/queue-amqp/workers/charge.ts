/**
 * The side effect of the crash cases, behind the documented idempotency guard: a file created
 * exclusively per job id (what a unique constraint on the job id gives in production), so a job
 * that runs twice charges once.
 */
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export function chargeOnce(dir: string, jobId: string): void {
  try {
    closeSync(openSync(join(dir, `guard-${jobId}`), 'wx'))
  } catch {
    return
  }
  appendFileSync(join(dir, 'effects'), `${jobId}\n`)
}

/** The lines of `dir`'s file `file` (none when it does not exist). */
export function linesOf(dir: string, file: string): string[] {
  try {
    return readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
  } catch {
    return []
  }
}
