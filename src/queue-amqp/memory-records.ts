/**
 * `memoryRecordStore()`: job records in this process's memory. Right for one process (producer
 * and consumers together) and for tests; with several processes use `redisRecordStore()`, or
 * `status()` and dedupe only see what this process enqueued.
 *
 * Bounded: at most `maxRecords` records. Final ones (completed, failed, dead) are evicted oldest
 * first to make room; when every record is still live, `create` refuses with `QueueFullError`.
 */
import { QueueFullError } from '../core/errors.js'
import { checkKnownKeys, checkNumber, snapshot } from '../core/validate.js'
import {
  ABORTED,
  applyUpdate,
  isFinal,
  type CancelAnswer,
  type JobRecord,
  type JobRecordStore,
  type RecordUpdate,
  type StartAnswer,
} from './records.js'

export interface MemoryRecordStoreOptions {
  /** Records kept at most (default 100,000). */
  readonly maxRecords?: number
}

const WHERE = 'memoryRecordStore()'

export function memoryRecordStore(options?: MemoryRecordStoreOptions): JobRecordStore {
  const o = snapshot(WHERE, options)
  checkKnownKeys(WHERE, o, ['maxRecords'])
  const maxRecords =
    o.maxRecords === undefined
      ? 100_000
      : checkNumber(WHERE, 'maxRecords', o.maxRecords, { min: 1, max: 1e9, integer: true })
  const records = new Map<string, JobRecord>()
  /** Final records in the order they became final: the eviction order. */
  const finals = new Set<string>()
  const listeners = new Set<(id: string) => void>()

  const put = (record: JobRecord): void => {
    records.set(record.id, record)
    if (isFinal(record.state)) {
      finals.delete(record.id)
      finals.add(record.id)
    } else finals.delete(record.id)
  }
  const makeRoom = (): boolean => {
    while (records.size >= maxRecords) {
      const oldest = finals.values().next()
      if (oldest.done === true) return false
      finals.delete(oldest.value)
      records.delete(oldest.value)
    }
    return true
  }

  return {
    async create(record) {
      if (records.has(record.id)) return false
      if (!makeRoom())
        throw new QueueFullError(
          `${WHERE}: ${maxRecords} live job records (maxRecords); none is final to evict.`,
          maxRecords,
        )
      put(record)
      return true
    },
    async get(id) {
      return records.get(id)
    },
    async remove(id) {
      records.delete(id)
      finals.delete(id)
    },
    async start(id, pending, fallback): Promise<StartAnswer> {
      const record = records.get(id) ?? (makeRoom() ? fallback : undefined)
      if (record === undefined) return { run: false }
      if (isFinal(record.state) || pending < record.pending) return { run: false }
      if (record.cancelRequested) {
        // Cancelled while running, and its worker died before it stopped: it does not run again.
        put(applyUpdate(record, { state: 'failed', error: ABORTED }))
        return { run: false }
      }
      const attemptsMade = record.attemptsMade + 1
      put({ ...record, state: 'running', attemptsMade, runAt: null, cancelRequested: false })
      return { run: true, attempt: attemptsMade }
    },
    async update(id, update: RecordUpdate, run?: number) {
      const record = records.get(id)
      if (record === undefined || isFinal(record.state)) return
      if (run !== undefined && (record.state !== 'running' || record.attemptsMade !== run)) return
      put(applyUpdate(record, update))
    },
    async cancel(id): Promise<CancelAnswer> {
      const record = records.get(id)
      if (record === undefined || isFinal(record.state)) return 'none'
      if (record.state === 'queued') {
        put(applyUpdate(record, { state: 'failed', error: ABORTED }))
        return 'cancelled'
      }
      put({ ...record, cancelRequested: true })
      for (const listener of [...listeners]) listener(id)
      return 'running'
    },
    onCancel(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    // In one process no cancel is ever missed: nothing to catch up on.
    onResync: () => () => {},
    async dead(name, limit) {
      const out: JobRecord[] = []
      for (const id of finals) {
        const record = records.get(id)!
        if (record.state === 'dead' && record.name === name) out.push(record)
      }
      return out.sort((a, b) => (a.diedAt ?? 0) - (b.diedAt ?? 0)).slice(0, limit)
    },
    async revive(id, pending) {
      const record = records.get(id)
      if (record?.state !== 'dead') return false
      put({
        ...record,
        state: 'queued',
        attemptsMade: 0,
        pending,
        runAt: null,
        lastError: null,
        error: null,
        diedAt: null,
      })
      return true
    },
    async close() {
      listeners.clear()
    },
  }
}
