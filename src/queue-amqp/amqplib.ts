/**
 * amqplib, fanout/queue/amqp's optional peer, loaded on the first `amqpQueue()` rather than at
 * import: importing the subpath never fails, and a project without the package gets a
 * `MissingPeerError` naming the install command.
 */
import { createRequire } from 'node:module'
import type * as Amqplib from 'amqplib'
import { requirePeer } from '../core/peer.js'

export type Amqp = typeof Amqplib

const require = createRequire(import.meta.url)
let loaded: Amqp | undefined

/** amqplib, loaded once; `load` (a `require`) replaces the cached one, for tests. */
export function loadAmqplib(load?: (id: string) => unknown): Amqp {
  if (load === undefined && loaded !== undefined) return loaded
  const amqp = requirePeer<Amqp>(load ?? require, {
    name: 'amqplib',
    neededBy: 'fanout/queue/amqp',
    install: 'npm install amqplib',
  })
  if (load === undefined) loaded = amqp
  return amqp
}
