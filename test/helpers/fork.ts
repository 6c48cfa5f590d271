/**
 * Real processes for the multi-process cases: `forkWorker(file, input)` runs a TypeScript worker
 * module in a child Node process (through tsx) and resolves with the one message it sends back.
 * The worker reads its input from `workerInput()` and answers with `reply(result)`.
 */
import { fork, type ChildProcess } from 'node:child_process'

export interface Worker<R> {
  readonly child: ChildProcess
  readonly pid: number
  /** The worker's reply; rejects when it exits without one. */
  readonly result: Promise<R>
  /** SIGKILLs it (a crash: no cleanup runs). */
  kill(): void
}

export function forkWorker<R>(file: string | URL, input: unknown): Worker<R> {
  const child = fork(file instanceof URL ? file.pathname : file, [JSON.stringify(input)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const result = new Promise<R>((resolve, reject) => {
    child.once('message', (message) => resolve(message as R))
    child.once('exit', (code, signal) =>
      reject(new Error(`worker ${file.toString()} exited (${code ?? signal}) without a reply`)),
    )
    child.once('error', reject)
  })
  // A reply after a kill is not awaited by anyone: keep it from surfacing as unhandled.
  result.catch(() => {})
  return {
    child,
    pid: child.pid!,
    result,
    kill: () => {
      child.kill('SIGKILL')
    },
  }
}

/** In a worker: the input its parent gave. */
export function workerInput<T>(): T {
  return JSON.parse(process.argv[2] ?? 'null') as T
}

/** In a worker: sends the result and exits once it is delivered. */
export function reply(result: unknown): void {
  process.send!(result, () => process.exit(0))
}
