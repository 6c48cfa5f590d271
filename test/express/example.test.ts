/**
 * examples/express.ts: run as its docs say (`--smoke` answers both pages and exits 0), and served
 * in-process to check what its header says: a bad token is a 401, and a caller's deadline header
 * brings the page back in time (test/helpers/example-smoke.ts); a product id that is not a
 * number is a 404.
 */
import { expect, it } from 'vitest'
import * as example from '../../examples/express.js'
import { describeExample } from '../helpers/example-smoke.js'

describeExample('examples/express.ts', example, (get) => {
  it('answers 404 for a product id that is not a number', async () => {
    const res = await get('/products/abc', { authorization: `Bearer ${example.PAGE_TOKEN}` })
    expect(res.status).toBe(404)
    await res.body?.cancel()
  })
})
