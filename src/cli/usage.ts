/** What the `fanout` commands share: the error for bad input, reading the arguments, and telling a missing optional peer from any other failure. */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { missingModule } from '../core/peer.js'
import { closest } from '../core/validate.js'

/** A mistake in the command line or the setup: reported in one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

/**
 * node:util's parseArgs (pass `strict: true`), with its errors turned into `UsageError`s that say
 * what to pass: an unknown option gets the closest known one ("did you mean"), an option missing
 * its value says so, a stray argument is named.
 */
export function parseCommandArgs<
  T extends ParseArgsConfig & { readonly strict: true; readonly options: Options },
>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config)
  } catch (error) {
    throw usageErrorOf(error, config.options) ?? error
  }
}

function usageErrorOf(error: unknown, options: Options): UsageError | undefined {
  const code = (error as { code?: unknown } | null)?.code
  const message = String((error as Error | null)?.message)
  const flags = Object.entries(options).flatMap(([name, o]) => [
    `--${name}`,
    ...(o.short === undefined ? [] : [`-${o.short}`]),
  ])
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /^Unknown option '([^']+)'/.exec(message)?.[1] ?? message
    const guess = closest(
      flag.replace(/=.*$/, ''),
      flags.filter((f) => f.startsWith('--')),
    )
    return new UsageError(
      `unknown option "${flag}".${guess === undefined ? '' : ` Did you mean "${guess}"?`}`,
    )
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /^Option '(-[^ ']+)/.exec(message)?.[1] ?? '?'
    if (/does not take an argument/.test(message)) return new UsageError(`${flag} takes no value.`)
    const dash = /ambiguous/.test(message)
      ? ` (a value starting with "-" is written ${flag}=-…)`
      : ''
    return new UsageError(`${flag} needs a value${dash}.`)
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /^Unexpected argument '([^']*)'/.exec(message)?.[1] ?? message
    return new UsageError(`unexpected argument "${argument}": this command takes options only.`)
  }
  return undefined
}

/** The package an `import()` failed to find (an optional peer not installed), or undefined for any other failure. */
export function missingPackage(error: unknown): string | undefined {
  return missingModule(error)
}
