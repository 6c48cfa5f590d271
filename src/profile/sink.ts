/**
 * What the channel listeners (undici-channels.ts, http-channels.ts) hand their findings to: the
 * profiler, which decides whether a call belongs to a unit of work it tracks.
 */
import diagnostics from 'node:diagnostics_channel'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CallStart, HeaderPairs, OutboundCall } from './call.js'

export interface CallSink {
  /** An outbound call starts in the current async context: its record, or undefined when it is not tracked. */
  begin(start: CallStart): OutboundCall | undefined
  /** An incoming request starts: its unit of work is entered into the current async context. */
  serverStart(request: IncomingMessage, response: ServerResponse): void
  /** An incoming request's response was sent. */
  serverEnd(response: ServerResponse): void
}

/**
 * Subscribes each listener to its channel; the function returned unsubscribes them all. A
 * listener that throws would surface as an uncaught exception in the application (that is what
 * diagnostics_channel does with a subscriber's error), so none is let through: the profiler
 * misses that event rather than break the process it watches.
 */
export function listen(listeners: Record<string, (message: unknown) => void>): () => void {
  const entries = Object.entries(listeners).map(
    ([name, fn]) => [name, (message: unknown) => quietly(() => fn(message))] as const,
  )
  for (const [name, fn] of entries) diagnostics.subscribe(name, fn)
  return () => {
    for (const [name, fn] of entries) diagnostics.unsubscribe(name, fn)
  }
}

/** Runs `fn`, swallowing what it throws (see `listen`). */
export function quietly(fn: () => void): void {
  try {
    fn()
  } catch {
    // Never the application's problem.
  }
}

const text = (value: unknown): string =>
  Array.isArray(value)
    ? value.map(text).join(', ')
    : value instanceof Uint8Array
      ? Buffer.from(value).toString('latin1')
      : String(value)

/** Header pairs from the shapes the clients keep them in: a flat `[name, value, …]` list, an object, or `name: value\r\n` lines. */
export function headerPairs(headers: unknown): HeaderPairs {
  const pairs: [string, string][] = []
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2)
      pairs.push([text(headers[i]), text(headers[i + 1])])
  } else if (typeof headers === 'string') {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon > 0) pairs.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
    }
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers))
      if (value !== undefined) pairs.push([name, text(value)])
  }
  return pairs
}
