/**
 * Seed 001, `GET /api/products/:id`: details, stock, reviews and their authors (batched per
 * request), recommendations; the optional parts fall back when they fail or when the caller's
 * deadline header leaves them no time, so a short budget still gets a page.
 */
import { withFanout } from '../../../src/next/index.js'
import { PAGE_TOKEN } from '../../lib/backends.js'
import { backends, bearer } from './backends.js'

type Params = { params: Promise<{ id: string }> }

export const GET = withFanout(
  async (request, { params }: Params) => {
    const id = Number((await params).id)
    if (!Number.isSafeInteger(id) || id < 1)
      return Response.json({ error: 'not found' }, { status: 404 })
    const services = await backends()
    return Response.json(await services.product(id, bearer(request) ?? PAGE_TOKEN))
  },
  { budget: 2_000 },
)
