// expect: none
// An access *result* computed after the user task (reads $.user): data, not a gate in front of it.
import { flow } from '../../../../src/index.js'

declare const api: { auth(t: string): Promise<{ userId: string }>; user(id: string): Promise<{ id: string }>; access(id: string): Promise<boolean> }

export const page = flow<{ token: string }>('page')
  .gate('auth', (_, { input }) => api.auth(input.token))
  .task('user', async ($) => api.user((await $.auth).userId))
  .task('access', async ($) => api.access((await $.user).id))
