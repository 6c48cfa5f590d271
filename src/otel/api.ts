/**
 * `@opentelemetry/api`, fanout/otel's optional peer, loaded so that a project without it gets a
 * `MissingPeerError` naming the install command rather than a bare module-not-found. The API
 * package is the one every SDK and instrumentation shares through its global registry, so fanout
 * makes its spans and metrics wherever the application's SDK sends them.
 */
import { createRequire } from 'node:module'
import type * as Api from '@opentelemetry/api'
import { requirePeer } from '../core/peer.js'

const require = createRequire(import.meta.url)

export const api: typeof Api = requirePeer(require, {
  name: '@opentelemetry/api',
  neededBy: 'fanout/otel',
  install: 'npm install @opentelemetry/api',
})
