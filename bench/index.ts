/**
 * The benchmark registry: one line per benchmark, each export a `Benchmark`. `npm run bench` runs
 * them in alphabetical order of these export names.
 */
export { dag } from './dag.js'
