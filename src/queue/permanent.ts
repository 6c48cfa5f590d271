/**
 * A handler's way to say "retrying cannot help" about an error that carries no 4xx status (a
 * record that no longer exists, a business rule that refused): `worker()` then fails the job at
 * once instead of retrying it. The mark is a `Symbol.for` key, so it survives two installed
 * copies of fanout, and it leaves the error's class, message and stack as they were.
 */
const mark = Symbol.for('fanout.queue.permanent')

/**
 * Marks `error` as permanent and returns it, for `throw permanentError(err)`. A value that is not
 * an object (a thrown string) is wrapped in an `Error` first.
 */
export function permanentError<E>(error: E): E extends object ? E : Error {
  const target: object =
    typeof error === 'object' && error !== null ? error : new Error(String(error))
  Object.defineProperty(target, mark, { value: true, configurable: true })
  return target as E extends object ? E : Error
}

/** Whether `error` was marked with `permanentError()`. */
export function isPermanentError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && mark in error
}
