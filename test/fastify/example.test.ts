/**
 * examples/fastify.ts: run as its docs say (`--smoke` answers both pages and exits 0), and served
 * in-process to check what its header says: a bad token is a 401, a caller's deadline header
 * brings the page back in time, and the handler timeout is every request's budget
 * (test/helpers/example-smoke.ts); paths its routes do not match are 404.
 */
import { expect, it } from 'vitest'
import * as example from '../../examples/fastify.js'
import { describeExample } from '../helpers/example-smoke.js'

describeExample('examples/fastify.ts', example, (get) => {
  it('answers 404 for other paths', async () => {
    expect((await get('/products/abc', {})).status).toBe(404)
  })
})
