// expect: 1 report
// expect: suggestion
// A fanout flow whose auth check is a .task: the data tasks start beside it.
import { flow } from '../../../../src/index.js'

declare const api: { verifyToken(t: string): Promise<{ userId: string }>; user(id: string): Promise<unknown>; orders(id: string): Promise<unknown> }

export const page = flow<{ token: string; userId: string }>('page')
  .task('auth', (_, { input }) => api.verifyToken(input.token))
  .task('user', (_, { input }) => api.user(input.userId))
  .task('orders', (_, { input }) => api.orders(input.userId))
