/** Lua scripts as fanout runs them: named, with their SHA-1, EVALSHA first (see connection.ts). */
import { createHash } from 'node:crypto'
import type { RedisScript } from './connection.js'

export function defineScript(name: string, source: string): RedisScript {
  return Object.freeze({ name, source, sha: createHash('sha1').update(source).digest('hex') })
}

/** True for the reply error of EVALSHA on a server that does not hold the script. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
