/**
 * One line of text per trace event, for the HTML waterfall's tooltip, and which events are marked
 * on a task's bar. Events carry no request data or error messages (see core/trace.ts), so every
 * field they have may be shown; a field is read as the type the event says, and a file written by
 * hand that puts something else there shows `?`.
 */
import type { TraceEvent } from '../core/trace.js'

/** What a mark on a bar stands for; the page draws each kind with its own letter and colour. */
export type MarkKind = 'retry' | 'hedge' | 'won' | 'timeout' | 'budget' | 'circuit'

const MARKS: Readonly<Record<string, MarkKind>> = {
  'retry.scheduled': 'retry',
  'hedge.fired': 'hedge',
  'hedge.won': 'won',
  'timeout.fired': 'timeout',
  'retry.budgetExhausted': 'budget',
  'circuit.changed': 'circuit',
}

/** The mark an event puts on its task's bar, if it is one of those drawn there. */
export function markOf(event: TraceEvent): MarkKind | undefined {
  return Object.prototype.hasOwnProperty.call(MARKS, event.type) ? MARKS[event.type] : undefined
}

/** A short sentence saying what the event reports, e.g. "attempt 1 failed (503); retry in 20 ms". */
export function describeEvent(event: TraceEvent): string {
  const e = event as unknown as Record<string, unknown>
  const s = (key: string): string => text(e[key])
  const n = (key: string): string => num(e[key])
  switch (event.type) {
    case 'attempt.started':
      return `attempt ${n('attempt')} started`
    case 'retry.scheduled':
      return `attempt ${n('attempt')} failed (${s('cause')}); retry in ${n('delayMs')} ms (${s('reason')})`
    case 'retry.budgetExhausted':
      return `retry budget refused a retry after attempt ${n('attempt')}`
    case 'timeout.fired':
      return `timeout of ${n('timeoutMs')} ms fired`
    case 'circuit.changed':
      return `circuit ${s('breaker')}: ${s('from')} → ${s('to')}`
    case 'hedge.fired':
      return `hedge ${n('hedge')} fired after ${n('afterMs')} ms`
    case 'hedge.won':
      return e.winner === 0 ? 'the primary attempt won' : `hedge ${n('winner')} won`
    case 'task.started':
      return 'task started'
    case 'task.settled':
      return `task settled: ${s('outcome')} after ${n('durationMs')} ms`
    case 'request.started':
      return `${request(e)} sent (attempt ${n('attempt')})`
    case 'request.finished':
      return `${request(e)} → ${answer(e)}`
    default:
      return describeOther(e)
  }
}

/** The events of caches, loaders, limiters and stores. */
function describeOther(e: Record<string, unknown>): string {
  const s = (key: string): string => text(e[key])
  const n = (key: string): string => num(e[key])
  switch (e.type) {
    case 'cache.hit':
      return `cache ${s('cache')}: hit${e.revalidated === true ? ' (revalidated)' : ''}`
    case 'cache.missed':
      return `cache ${s('cache')}: miss`
    case 'cache.staleServed':
      return `cache ${s('cache')}: stale entry served (${s('reason')})`
    case 'cache.stored':
      return `cache ${s('cache')}: stored ${s('kind')} for ${n('ttlMs')} ms`
    case 'batch.dispatched':
      return `loader ${s('loader')}: batch of ${n('size')} dispatched`
    case 'batch.settled':
      return `loader ${s('loader')}: batch of ${n('size')} ${s('outcome')} in ${n('durationMs')} ms`
    case 'rate.waited':
      return `rate limiter ${s('limiter')}: waited ${n('waitMs')} ms`
    case 'slot.waited':
      return `limiter ${s('limiter')}: waited ${n('waitMs')} ms for a slot (${n('queued')} queued behind)`
    case 'rate.adjusted':
      return `rate limiter ${s('limiter')}: rate × ${n('factor')} (${s('cause')})`
    case 'limit.adjusted':
      return `limiter ${s('limiter')}: concurrency ${n('from')} → ${n('to')} (${s('reason')})`
    case 'store.failed':
      return `store ${s('store')}: ${s('operation')} failed (${s('reason')}${typeof e.code === 'string' ? `, ${e.code}` : ''}); ${s('policy')}`
    case 'store.recovered':
      return `store ${s('store')}: answering again`
    case 'store.skipped':
      return `store ${s('store')}: ${s('operation')} skipped (${s('reason')})`
    default:
      return text(e.type)
  }
}

function request(e: Record<string, unknown>): string {
  return `${text(e.method)} ${text(e.origin)}${text(e.path)}`
}

function answer(e: Record<string, unknown>): string {
  const code = typeof e.errorCode === 'string' ? ` ${e.errorCode}` : ''
  if (e.outcome === 'response') return `${num(e.status)} in ${num(requestMs(e))} ms`
  return `${text(e.outcome)} in ${text(e.phase)}${code}`
}

/** A finished request's time: connecting, waiting for the headers and reading the body. */
export function requestMs(e: Record<string, unknown>): number {
  let sum = 0
  for (const key of ['connectMs', 'headersMs', 'bodyMs']) {
    const v = e[key]
    if (typeof v === 'number' && Number.isFinite(v)) sum += v
  }
  return sum
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '?'
}

function num(value: unknown): string {
  if (typeof value !== 'number' || Number.isNaN(value)) return '?'
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞'
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 10) / 10)
}
