/**
 * Calling a Next route handler the way Next does, without Next: a `Request` with a signal the
 * test aborts (the client's disconnect), and a fake `after()` that queues the work until the test
 * says the response is out.
 */
import type { After } from '../../src/next/index.js'

export interface FakeAfter {
  readonly after: After
  /** Work handed to `after()` and not run yet. */
  readonly queued: number
  /** Runs the queued work, as Next does once the response is sent; resolves when it settled. */
  flush(): Promise<void>
}

export function fakeAfter(): FakeAfter {
  const queue: (() => Promise<void>)[] = []
  return {
    after: (work) => void queue.push(work),
    get queued() {
      return queue.length
    },
    async flush() {
      const jobs = queue.splice(0)
      await Promise.all(jobs.map((job) => job()))
    },
  }
}

export interface Client {
  readonly request: Request
  /** The client goes away: what Next does to `request.signal` on a disconnect. */
  disconnect(): void
}

export function client(url: string, init: RequestInit = {}): Client {
  const controller = new AbortController()
  return {
    request: new Request(url, { ...init, signal: controller.signal }),
    disconnect: () => controller.abort(new DOMException('client disconnected', 'AbortError')),
  }
}

export { resources } from '../helpers/load.js'
