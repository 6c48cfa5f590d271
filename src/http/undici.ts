/**
 * undici, fanout/http's optional peer, loaded so that a project without it gets a
 * `MissingPeerError` naming the install command rather than a bare module-not-found, and so that
 * the handler protocol matches the installed major: undici 7 speaks the controller protocol
 * (`onRequestStart`, `onResponseStart`…) that `Exchange` implements; undici 6 only the older one
 * (`onConnect`, `onHeaders`…), which `legacyHandler` translates to.
 */
import { createRequire } from 'node:module'
import type * as Undici from 'undici'
import type { Dispatcher } from 'undici'
import { requirePeer } from '../core/peer.js'
import { legacyHandler } from './legacy-handler.js'

const require = createRequire(import.meta.url)

export const undici: typeof Undici = requirePeer(require, {
  name: 'undici',
  neededBy: 'fanout/http',
  install: 'npm install undici',
})

/** The installed major (undici has no exports map, so its package.json is reachable). */
function installedMajor(): number {
  try {
    const { version } = require('undici/package.json') as { version?: unknown }
    return typeof version === 'string' ? Number.parseInt(version, 10) : 7
  } catch {
    return 7
  }
}

/** The controller protocol arrived with undici 7; 6 calls only the older handler methods. */
const speaksControllers = installedMajor() >= 7

/** The handler to give `dispatch()` of the installed undici. */
export function handlerFor(handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
  if (speaksControllers) return handler
  const parseHeaders = undici.util.parseHeaders as (
    raw: Buffer[] | string[] | null,
  ) => Record<string, string | string[] | undefined>
  // undici 6's types are not installed: its dispatch() takes this older handler shape.
  return legacyHandler(handler, parseHeaders) as unknown as Dispatcher.DispatchHandler
}
