/** `npm run bench [-- name ... --json --seed N --help]`: see bench/README.md. */
import { main, type Benchmark } from './harness.js'
import * as registry from './index.js'

const benchmarks: readonly Benchmark[] = Object.values(registry)

process.exitCode = await main(process.argv.slice(2), benchmarks, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
})
