/**
 * Events that policies report while a call runs. They are cheap to skip: emitters check
 * `recorder.enabled` first, so tracing costs nothing when nobody listens.
 */

/** A per-task or per-attempt time limit fired and aborted the call. */
export interface TimeoutFiredEvent {
  readonly type: 'timeout.fired'
  readonly task: string
  readonly at: number
  readonly timeoutMs: number
}

/** Union of every event fanout emits; later policies add members. Events are named `noun.pastTense`. */
export type TraceEvent = TimeoutFiredEvent

export interface Recorder {
  /** False when nobody listens: emitters skip building the event. */
  readonly enabled: boolean
  emit(event: TraceEvent): void
}

export const noopRecorder: Recorder = Object.freeze({ enabled: false, emit() {} })
