/**
 * Many single-job calls of one record-store operation as few script calls. A consumer at prefetch
 * 50 starts and settles jobs one by one; as one script each, Redis spends most of its time on
 * the per-command work (parsing, the script's call, the reply) rather than on the records, and
 * the client on one request and one reply per job. Calls made while `maxInFlight` batches await
 * their reply wait for the next one, so batches grow with the load and stay at one call when it
 * is light (a lone call is sent in the same tick, no timer).
 *
 * Each call still gets its own answer: `send` answers per item, an `Error` for an item that
 * failed on its own (the script catches each item's failure, so one bad record fails only its
 * job), and a rejected `send` (the connection) fails every call of the batch.
 */

export type SendBatch<I, O> = (items: readonly I[]) => Promise<readonly (O | Error)[]>

interface Waiting<I, O> {
  readonly item: I
  readonly resolve: (value: O) => void
  readonly reject: (error: unknown) => void
}

export interface ScriptBatchOptions {
  /** Batches awaiting their reply at once (pipelined on the connection). */
  readonly maxInFlight: number
  /** Items in one batch at most (one script's arguments). */
  readonly maxItems: number
}

export function scriptBatch<I, O>(
  send: SendBatch<I, O>,
  options: ScriptBatchOptions,
): (item: I) => Promise<O> {
  let queued: Waiting<I, O>[] = []
  let inFlight = 0
  let scheduled = false

  const flush = (): void => {
    scheduled = false
    while (queued.length > 0 && inFlight < options.maxInFlight) {
      const batch = queued.length <= options.maxItems ? queued : queued.slice(0, options.maxItems)
      queued = batch === queued ? [] : queued.slice(options.maxItems)
      inFlight++
      let answers: Promise<readonly (O | Error)[]>
      try {
        answers = send(batch.map((w) => w.item))
      } catch (error) {
        answers = Promise.reject(error)
      }
      answers.then(
        (results) => {
          inFlight--
          batch.forEach((w, i) => {
            const result = results[i]
            if (result instanceof Error) w.reject(result)
            else if (result === undefined) w.reject(new Error('the batch answered too few items'))
            else w.resolve(result)
          })
          flush()
        },
        (error: unknown) => {
          inFlight--
          for (const w of batch) w.reject(error)
          flush()
        },
      )
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queued.push({ item, resolve, reject })
      // Sent once this tick's synchronous work is done: the deliveries of one socket read go
      // together.
      if (!scheduled && inFlight < options.maxInFlight) {
        scheduled = true
        queueMicrotask(flush)
      }
    })
}
