/**
 * Job ids. An idempotency key becomes the id, so a resubmission finds the job already there;
 * it is hashed with the job's name and the caller's scope (a tenant, a user) so that one user's
 * key never names another user's job, and so the id holds no raw client input (BullMQ forbids
 * `:` in ids, RabbitMQ headers are short). Hashing uses Web Crypto: it runs on every runtime.
 */
import { InvalidArgumentError } from '../core/errors.js'

interface WebCrypto {
  readonly subtle: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> }
  randomUUID(): string
}

function webCrypto(): WebCrypto {
  const c = (globalThis as { crypto?: WebCrypto }).crypto
  if (c?.subtle === undefined)
    throw new InvalidArgumentError(
      'fanout/queue needs Web Crypto (globalThis.crypto.subtle) to hash idempotency keys.',
    )
  return c
}

/** SHA-256, hex, of the name, scope and key (JSON-encoded together, so no two triples collide). */
export async function idempotentJobId(name: string, scope: string, key: string): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(['fanout.job', name, scope, key]))
  const digest = new Uint8Array(await webCrypto().subtle.digest('SHA-256', bytes))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}

/** A random id for a job nobody will submit twice. */
export function randomJobId(): string {
  return webCrypto().randomUUID()
}
