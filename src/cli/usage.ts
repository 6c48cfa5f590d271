/** What the `fanout` commands share: the error for bad input, and telling a missing optional peer from any other failure. */

/** A mistake in the command line or the setup: reported in one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The package an `import()` failed to find (an optional peer not installed), or undefined for any other failure. */
export function missingPackage(error: unknown): string | undefined {
  if ((error as { code?: string } | null)?.code !== 'ERR_MODULE_NOT_FOUND') return undefined
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(String((error as Error).message))?.[1]
  return name === undefined || name.startsWith('.') || name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) ? undefined : name
}
