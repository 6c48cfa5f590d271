/**
 * bullmq, fanout/queue/bullmq's optional peer, loaded on the first `bullmqQueue()` rather than at
 * import: importing the subpath never fails, and a project without the package gets a
 * `MissingPeerError` naming the install command.
 */
import { createRequire } from 'node:module'
import type * as BullMQ from 'bullmq'
import { requirePeer } from '../core/peer.js'

export type Bullmq = typeof BullMQ

const require = createRequire(import.meta.url)
let loaded: Bullmq | undefined

export function loadBullmq(load: (id: string) => unknown = require): Bullmq {
  if (load !== require) return requirePeer<Bullmq>(load, spec)
  loaded ??= requirePeer<Bullmq>(load, spec)
  return loaded
}

const spec = {
  name: 'bullmq',
  neededBy: 'fanout/queue/bullmq',
  install: 'npm install bullmq',
} as const
