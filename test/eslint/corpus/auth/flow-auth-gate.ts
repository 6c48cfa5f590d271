// expect: none
// The same flow with the check declared as a gate.
import { flow } from '../../../../src/index.js'

declare const api: { verifyToken(t: string): Promise<{ userId: string }>; user(id: string): Promise<unknown>; orders(id: string): Promise<unknown> }

export const page = flow<{ token: string; userId: string }>('page')
  .gate('auth', (_, { input }) => api.verifyToken(input.token))
  .task('user', async ($) => api.user((await $.auth).userId))
  .task('orders', async ($) => api.orders((await $.auth).userId))
