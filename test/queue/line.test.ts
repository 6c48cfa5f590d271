/** The memory queue's ready line: FIFO through growth and wrap-around. */
import { describe, expect, it } from 'vitest'
import { Line } from '../../src/queue/line.js'

describe('Line', () => {
  it('hands items out first in, first out while it grows and its head wraps around', () => {
    const line = new Line<number>()
    const out: number[] = []
    let next = 0
    // Interleaved pushes and shifts move the head around the ring; bursts make it grow.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < (round % 7) * 5; i++) line.push(next++)
      for (let i = 0; i < (round % 5) * 4; i++) {
        const item = line.shift()
        if (item !== undefined) out.push(item)
      }
    }
    while (line.length > 0) out.push(line.shift()!)
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i))
    expect(line.shift()).toBeUndefined()
    expect(line.length).toBe(0)
  })

  it('holds 100,000 items and gives them back in order', () => {
    const line = new Line<number>()
    for (let i = 0; i < 100_000; i++) line.push(i)
    let sum = 0
    while (line.length > 0) sum += line.shift()!
    expect(sum).toBe((100_000 * 99_999) / 2)
  })
})
