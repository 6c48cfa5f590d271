/**
 * Real Express servers on 127.0.0.1 (port 0) for fanout/express's tests, and a raw client whose
 * request a test can destroy mid-request (`send()` returns the request with its answer).
 */
import express, { type Express } from 'express'
import { closeServers, served, type Served } from '../helpers/adapter-server.js'

export { open as send, type Answer } from '../helpers/http-client.js'
export { settleTurns as settle, timers } from '../helpers/load.js'
export { closeServers }
export type Running = Served

/** A new app set up by `setup`, listening on a loopback port. */
export async function listen(setup: (app: Express) => void): Promise<Running> {
  const app = express()
  setup(app)
  return served(app.listen(0, '127.0.0.1'))
}
