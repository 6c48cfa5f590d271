/**
 * Loaded into each Node.js process `fanout profile` starts (`NODE_OPTIONS=--import=…`): starts a
 * profiler before the application's first line, and writes its report as JSON to
 * `$FANOUT_PROFILE_DIR/<pid>.json` when the process exits — and when it gets SIGINT or SIGTERM,
 * which by default end a process without an `exit` event. Then, if the application has no
 * handler of its own for that signal, the signal is raised again so the process ends as it would
 * have.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { profile } from './profiler.js'

/** What one process writes: the report and which process it is. */
export interface ProcessReport {
  readonly pid: number
  readonly argv: readonly string[]
  readonly report: ReturnType<ReturnType<typeof profile>['report']>
}

const dir = process.env.FANOUT_PROFILE_DIR
if (dir !== undefined && dir !== '') {
  const profiler = profile()
  const write = (): void => {
    const entry: ProcessReport = {
      pid: process.pid,
      argv: process.argv.slice(1),
      report: profiler.report(),
    }
    try {
      writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(entry))
    } catch {
      // The directory is gone (the parent stopped waiting): nothing to report to.
    }
  }
  process.once('exit', () => {
    profiler.stop()
    write()
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      write()
      if (process.listenerCount(signal) > 1) return // the application handles it
      process.off(signal, onSignal)
      process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}
