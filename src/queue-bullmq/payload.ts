/**
 * What fanout stores in a BullMQ job besides BullMQ's own fields. The job's data wraps the
 * caller's data with the attempts and deadline (BullMQ's own `attempts` stay at 1: every retry is
 * decided by `worker()` and carried out with an exact delay, never by BullMQ's backoff). A
 * failure is stored as its code and status only, as JSON in BullMQ's `failedReason`: never a
 * message, which may hold request details or credentials.
 */
import { randomBytes } from 'node:crypto'
import type { JobData, JobErrorInfo } from '../queue/job-queue.js'

export interface Payload {
  /** The nonce of the enqueue that wrote the job (first, so the stored JSON begins with it). */
  readonly k?: string
  readonly d: JobData
  /** Queue-level attempts. */
  readonly n: number
  /** Deadline, epoch ms, or null. */
  readonly dl: number | null
}

const base = randomBytes(6).toString('base64url')
let counter = 0

/** Unique per enqueue in this process, and across processes with overwhelming likelihood. */
export function nextNonce(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${base}${counter.toString(36)}`
}

/** How the stored job data begins when `nonce` wrote it (`JSON.stringify` keeps key order). */
export function dataPrefix(nonce: string): string {
  return `{"k":${JSON.stringify(nonce)},`
}

/** Hash fields fanout adds to a BullMQ job: the last attempt's error and when a retry runs. */
export const LAST_ERROR_FIELD = 'fanoutLastError'
export const RUN_AT_FIELD = 'fanoutRunAt'

/** The error info of a job that failed for good, `dead` marking a dead-lettered one. */
export interface StoredFailure extends JobErrorInfo {
  readonly dead?: true
}

export const GENERIC_FAILURE: JobErrorInfo = { code: 'FANOUT_JOB_FAILED', status: null }

export function encodeFailure(error: JobErrorInfo, dead: boolean): string {
  return JSON.stringify(
    dead ? { code: error.code, status: error.status, dead: true } : errorInfo(error),
  )
}

/** Only `code` and `status`, whatever else the object carries. */
export function errorInfo(error: JobErrorInfo): JobErrorInfo {
  return {
    code: String(error.code),
    status: typeof error.status === 'number' ? error.status : null,
  }
}

/**
 * Reads a stored failure. A reason fanout did not write (BullMQ's own, e.g. a job that lost its
 * worker more than `maxStalledCount` times) reads as a plain failure with the generic code.
 */
export function decodeFailure(reason: string | null | undefined): StoredFailure {
  if (typeof reason !== 'string') return GENERIC_FAILURE
  try {
    const parsed = JSON.parse(reason) as Partial<StoredFailure> | null
    if (parsed === null || typeof parsed !== 'object' || typeof parsed.code !== 'string')
      return GENERIC_FAILURE
    const info = errorInfo(parsed as JobErrorInfo)
    return parsed.dead === true ? { ...info, dead: true } : info
  } catch {
    return GENERIC_FAILURE
  }
}

export function decodeError(raw: string | null | undefined): JobErrorInfo | null {
  return typeof raw === 'string' ? errorInfo(decodeFailure(raw)) : null
}

export function readPayload(data: unknown): Payload {
  const p = (data ?? {}) as Partial<Payload>
  return {
    d: p.d === undefined ? null : p.d,
    n: typeof p.n === 'number' ? p.n : 1,
    dl: typeof p.dl === 'number' ? p.dl : null,
  }
}
