export * from '../../src/index.js'
export { systemClock } from '../../src/policies/index.js'
export { MAX_TIMER_DELAY as MAX_DELAY_FOR_TESTS } from '../../src/core/clock.js'
