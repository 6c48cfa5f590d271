/**
 * Job names become queue names, Redis key parts and routing keys on every backend, so one rule
 * holds everywhere: letters, digits, `.`, `_` and `-`, at most 100 characters.
 */
import { InvalidArgumentError } from '../core/errors.js'
import { show } from '../core/validate.js'

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

export function checkJobName(where: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new InvalidArgumentError(
      `${where}: the job name must be 1–100 letters, digits, ".", "_" or "-" (starting with a letter or digit), got ${show(name)}.`,
    )
  return name
}

/** A job id as an argument: a non-empty string of at most 200 characters. */
export function checkJobId(where: string, id: unknown): string {
  if (typeof id !== 'string' || id === '' || id.length > 200)
    throw new InvalidArgumentError(
      `${where}: the job id must be a non-empty string of at most 200 characters, got ${show(id)}.`,
    )
  return id
}
