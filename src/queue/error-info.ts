/**
 * What is stored about a failure: a code and a status, never the message (H5, and the house
 * rule that brokers hold no credentials). The code is kept only when it looks like a code, so a
 * library that puts a sentence (or a token) in `code` cannot smuggle it into the broker.
 */
import { isFanoutError } from '../core/errors.js'
import { codeOf, statusOf } from '../policies/classify.js'
import type { JobErrorInfo } from './job-queue.js'

const CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

export function errorInfo(error: unknown): JobErrorInfo {
  const raw = isFanoutError(error) ? error.code : codeOf(error)
  const code = typeof raw === 'string' && CODE.test(raw) ? raw : 'FANOUT_JOB_FAILED'
  return Object.freeze({ code, status: statusOf(error) ?? null })
}

/** A failure with nothing better to say: no code that looks like one. */
export const unknownError: JobErrorInfo = Object.freeze({ code: 'FANOUT_JOB_FAILED', status: null })
/** A cancelled job, or an attempt whose signal was aborted. */
export const abortedError: JobErrorInfo = Object.freeze({ code: 'FANOUT_ABORTED', status: null })
