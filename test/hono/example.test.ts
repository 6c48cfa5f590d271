/**
 * examples/hono.ts: run as its docs say (`--smoke` answers both pages and exits 0), and served
 * in-process to check what its header says: a bad token is a 401, and a caller's deadline header
 * brings the page back in time (test/helpers/example-smoke.ts).
 */
import * as example from '../../examples/hono.js'
import { describeExample } from '../helpers/example-smoke.js'

describeExample('examples/hono.ts', example)
