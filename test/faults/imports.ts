export * from '../../src/index.js'
export { MAX_TIMER_DELAY as MAX_DELAY_FOR_TESTS } from '../../src/core/clock.js'
