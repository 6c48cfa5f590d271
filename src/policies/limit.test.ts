import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { execute, flow, limit, QueueFullError, type CallContext } from '../index.js'
import { after, now, settle, useFakeTime } from '../../test/helpers/time.js'

/** A gate the test opens by hand: counts how many run at once. */
function tracker() {
  let running = 0
  let peak = 0
  const perKey = new Map<string, number>()
  let peakPerKey = 0
  return {
    get running() {
      return running
    },
    get peak() {
      return peak
    },
    get peakPerKey() {
      return peakPerKey
    },
    async run<T>(key: string, work: () => Promise<T>): Promise<T> {
      running++
      peak = Math.max(peak, running)
      const k = (perKey.get(key) ?? 0) + 1
      perKey.set(key, k)
      peakPerKey = Math.max(peakPerKey, k)
      try {
        return await work()
      } finally {
        running--
        perKey.set(key, perKey.get(key)! - 1)
      }
    },
  }
}

describe('limit()', () => {
  it('D1: never more than `concurrency` in flight, per key never more than `perKey`, every task settles once — over 1,000 completion orders', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean()), {
          minLength: 1,
          maxLength: 25,
        }),
        async (s, concurrency, perKey, calls) => {
          const t = tracker()
          const limiter = limit({ concurrency, perKey, key: (ctx) => ctx.task, maxQueue: 100 })
          let settled = 0
          const results = calls.map(([key, fails], i) =>
            execute(
              limiter.wrap(() =>
                t.run(key, () =>
                  s.schedule(Promise.resolve(i)).then((v) => {
                    if (fails) throw new Error(`task ${i}`)
                    return v
                  }),
                ),
              ),
              { name: key },
            ).then(
              () => settled++,
              () => settled++,
            ),
          )
          await s.waitFor(Promise.all(results))
          expect(t.peak).toBeLessThanOrEqual(concurrency)
          expect(t.peakPerKey).toBeLessThanOrEqual(perKey)
          expect(settled).toBe(calls.length)
          expect(limiter.activeCount).toBe(0)
          expect(limiter.pendingCount).toBe(0)
        },
      ),
      { numRuns: 1_000 },
    )
  })

  it('D1: FIFO within a priority, higher priority first', async () => {
    const order: string[] = []
    const limiter = limit({
      concurrency: 1,
      priority: (ctx) => (ctx.task.startsWith('hi') ? 1 : 0),
    })
    let open!: () => void
    const first = execute(
      limiter.wrap(() => new Promise<void>((r) => (open = r))),
      { name: 'blocker' },
    )
    const calls = ['lo1', 'hi1', 'lo2', 'hi2', 'lo3'].map((name) =>
      execute(
        limiter.wrap(async () => void order.push(name)),
        { name },
      ),
    )
    open()
    await Promise.all([first, ...calls])
    expect(order).toEqual(['hi1', 'hi2', 'lo1', 'lo2', 'lo3'])
  })

  it('D2: a saturated host does not delay another host', async () => {
    useFakeTime()
    const limiter = limit({ concurrency: 10, perKey: 2, key: (ctx) => ctx.task })
    const t0 = now()
    const slowHost = Array.from({ length: 6 }, () =>
      execute(
        limiter.wrap(({ signal }) => after(1_000, 'a', signal)),
        { name: 'a.example' },
      ),
    )
    let startedB = -1
    const fastHost = execute(
      limiter.wrap(({ signal }) => ((startedB = now() - t0), after(10, 'b', signal))),
      { name: 'b.example' },
    )
    await settle(fastHost)
    expect(startedB).toBe(0)
    await settle(Promise.all(slowHost))
    expect(now() - t0).toBe(3_000)
  })

  it('D2: keys take turns for the total limit: a key with a long queue does not delay another by its length', async () => {
    useFakeTime()
    const limiter = limit({
      concurrency: 2,
      perKey: 2,
      key: (ctx) => ctx.task.split('#')[0]!,
      maxQueue: 100,
    })
    const started: string[] = []
    const call = (name: string) =>
      execute(
        limiter.wrap(({ signal }) => (started.push(name), after(100, name, signal))),
        { name },
      )
    const busy = Array.from({ length: 10 }, (_, i) => call(`tenant-a#${i}`))
    const quiet = [call('tenant-b#0'), call('tenant-b#1')]
    await settle(Promise.all([...busy, ...quiet]))
    // FIFO across keys would start tenant b after all ten of tenant a's calls (at 500 ms).
    expect(started.slice(0, 6)).toEqual([
      'tenant-a#0',
      'tenant-a#1',
      'tenant-a#2',
      'tenant-b#0',
      'tenant-a#3',
      'tenant-b#1',
    ])
    // Within a key, order is kept.
    expect(started.filter((n) => n.startsWith('tenant-a'))).toEqual(
      Array.from({ length: 10 }, (_, i) => `tenant-a#${i}`),
    )
  })

  it('D2: with priorities, the higher priority still goes first across keys; keys of equal priority take turns', async () => {
    useFakeTime()
    const limiter = limit({
      concurrency: 1,
      perKey: 1,
      key: (ctx) => ctx.task.split('#')[0]!,
      priority: (ctx) => (ctx.task.endsWith('!') ? 1 : 0),
      maxQueue: 100,
    })
    const started: string[] = []
    const call = (name: string) =>
      execute(
        limiter.wrap(({ signal }) => (started.push(name), after(10, name, signal))),
        { name },
      )
    const all = [
      call('a#0'),
      call('a#1'),
      call('a#2'),
      call('a#3'),
      call('b#0'),
      call('b#1'),
      call('c#0!'),
    ]
    await settle(Promise.all(all))
    expect(started).toEqual(['a#0', 'c#0!', 'a#1', 'b#0', 'a#2', 'b#1', 'a#3'])
  })

  it('D3: aging lets low priority progress under steady high-priority traffic', async () => {
    useFakeTime()
    const limiter = limit({
      concurrency: 1,
      priority: (ctx) => (ctx.task === 'low' ? 0 : 5),
      agingMs: 100,
    })
    const started: string[] = []
    const call = (name: string) =>
      execute(
        limiter.wrap(({ signal }) => (started.push(name), after(50, name, signal))),
        { name },
      )
    const all: Promise<string>[] = [call('high'), call('low')]
    // A new high-priority call arrives every 50 ms, for 2 s.
    for (let i = 0; i < 40; i++) {
      all.push(call('high'))
      await vi.advanceTimersByTimeAsync(50)
    }
    await settle(Promise.all(all))
    const lowAt = started.indexOf('low')
    expect(lowAt).toBeGreaterThan(0)
    expect(lowAt).toBeLessThan(15)
  })

  it('D4: at the queue bound a new call is rejected at once with QueueFullError, never buffered', async () => {
    const limiter = limit({ concurrency: 1, maxQueue: 2, name: 'users' })
    let open!: () => void
    const running = limiter.run(() => new Promise<void>((r) => (open = r)))
    const queued = [limiter.run(() => 1), limiter.run(() => 2)]
    const error = await limiter.run(() => 3).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(QueueFullError)
    expect((error as Error).message).toBe(
      'Limiter "users": the queue is full (1 running, 2 waiting, maxQueue 2); the call was rejected, not buffered',
    )
    expect(limiter.pendingCount).toBe(2)
    open()
    await expect(Promise.all([running, ...queued])).resolves.toEqual([undefined, 1, 2])
  })

  it('A3: a call aborted while waiting leaves the queue at once, never starts, takes no slot, and the next is promoted', async () => {
    const limiter = limit({ concurrency: 1 })
    const controller = new AbortController()
    let listeners = 0
    const add = controller.signal.addEventListener.bind(controller.signal)
    const remove = controller.signal.removeEventListener.bind(controller.signal)
    controller.signal.addEventListener = ((...a: Parameters<typeof add>) => (
      listeners++,
      add(...a)
    )) as typeof add
    controller.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (
      listeners--,
      remove(...a)
    )) as typeof remove
    let open!: () => void
    const running = limiter.run(() => new Promise<void>((r) => (open = r)))
    let abortedStarted = false
    const aborted = limiter.run(() => (abortedStarted = true), { signal: controller.signal })
    const next = limiter.run(() => 'next')
    expect(limiter.pendingCount).toBe(2)
    const reason = new Error('caller left')
    controller.abort(reason)
    await expect(aborted).rejects.toBe(reason)
    expect(limiter.pendingCount).toBe(1)
    expect(limiter.activeCount).toBe(1)
    expect(listeners).toBe(0)
    open()
    await expect(next).resolves.toBe('next')
    await running
    expect(abortedStarted).toBe(false)
  })

  it('A11: the deadline covers the wait for a slot; maxWait bounds it too', async () => {
    useFakeTime()
    const limiter = limit({ concurrency: 1, maxWait: 300 })
    const blocker = execute(limiter.wrap(({ signal }) => after(1_000, 1, signal)))
    const t0 = now()
    let started = false
    const waiting = await settle(
      execute(
        limiter.wrap(async () => (started = true)),
        { deadline: 100 },
      ),
    )
    expect((waiting as { error: unknown }).error).toMatchObject({ code: 'FANOUT_DEADLINE' })
    expect(now() - t0).toBe(100)
    const bounded = await settle(limiter.run(() => 1))
    expect((bounded as { error: unknown }).error).toMatchObject({
      code: 'FANOUT_TIMEOUT',
      message: 'Limiter "limit": waited 300 ms for a slot',
    })
    expect(started).toBe(false)
    await settle(blocker)
    expect(limiter.pendingCount).toBe(0)
  })

  it('D5: a task that throws, rejects or throws synchronously releases its slot', async () => {
    const limiter = limit({ concurrency: 1 })
    await expect(limiter.run(() => Promise.reject(new Error('rejects')))).rejects.toThrow('rejects')
    await expect(
      limiter.run(() => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    await expect(
      execute(
        limiter.wrap(() => {
          throw new Error('policy sync')
        }),
      ),
    ).rejects.toThrow('policy sync')
    expect(limiter.activeCount).toBe(0)
    await expect(limiter.run(() => 'still works')).resolves.toBe('still works')
  })

  it('releases a slot only when the call settles, not when an outer timeout fires', async () => {
    useFakeTime()
    const { timeout, pipe } = await import('../index.js')
    const limiter = limit({ concurrency: 1 })
    const t = tracker()
    // The timeout is outside the limiter: the call keeps running after the timeout fires
    // (it ignores its signal), so the slot must stay held until it really ends.
    const stubborn = pipe(timeout(50), limiter).wrap(() => t.run('x', () => after(200, 1)))
    const results = [execute(stubborn), execute(stubborn)]
    await settle(Promise.allSettled(results))
    await vi.advanceTimersByTimeAsync(500)
    expect(t.peak).toBe(1)
  })

  it('raising concurrency starts waiters at once; clearQueue rejects them', async () => {
    const limiter = limit({ concurrency: 1 })
    let open!: () => void
    const first = limiter.run(() => new Promise<void>((r) => (open = r)))
    const second = limiter.run(() => 'second')
    limiter.concurrency = 2
    await expect(second).resolves.toBe('second')
    limiter.concurrency = 1
    const third = limiter.run(() => 'third')
    const fourth = limiter.run(() => 'fourth')
    expect(limiter.pendingCount).toBe(2)
    limiter.clearQueue()
    await expect(third).rejects.toMatchObject({ code: 'FANOUT_ABORTED' })
    await expect(fourth).rejects.toMatchObject({ code: 'FANOUT_ABORTED' })
    open()
    await first
  })

  it('works as a flow policy: the tasks of a flow share the limit', async () => {
    useFakeTime()
    const limiter = limit({ concurrency: 2 })
    const t = tracker()
    let f = flow('limited') as unknown as {
      task(n: string, fn: (d: unknown, c: CallContext) => Promise<number>, o: object): typeof f
      run(): Promise<unknown>
    }
    for (let i = 0; i < 6; i++)
      f = f.task(`t${i}`, (_, { signal }) => t.run('k', () => after(10, i, signal)), {
        policies: [limiter],
      })
    const t0 = now()
    await settle(f.run())
    expect(t.peak).toBe(2)
    expect(now() - t0).toBe(30)
  })

  it('per-key state is dropped when a key goes idle (bounded whatever the number of keys)', async () => {
    const limiter = limit({ concurrency: 4, perKey: 1, key: (ctx) => ctx.task })
    for (let i = 0; i < 1_000; i++)
      await execute(
        limiter.wrap(async () => i),
        { name: `host-${i}.example` },
      )
    expect(limiter.activeCount).toBe(0)
    const { slotsOf } = await import('./slots.js')
    expect(slotsOf(limiter)!.keyCount).toBe(0)
  })

  it.each([
    [{ concurrency: 0 }, '`concurrency` must be an integer from 1 to 1000000 or Infinity, got 0.'],
    [
      { concurrency: -1 },
      '`concurrency` must be an integer from 1 to 1000000 or Infinity, got -1.',
    ],
    [
      { concurrency: Number.NaN },
      '`concurrency` must be an integer from 1 to 1000000 or Infinity, got NaN.',
    ],
    [
      { concurrency: 1.5 },
      '`concurrency` must be an integer from 1 to 1000000 or Infinity, got 1.5.',
    ],
    [
      { concurrency: '5' },
      '`concurrency` must be an integer from 1 to 1000000 or Infinity, got "5". Pass a number, not a string.',
    ],
    [{}, '`concurrency` is required (an integer ≥ 1), e.g. limit({ concurrency: 8 }).'],
    [{ concurrency: 1, maxQueue: -1 }, '`maxQueue` must be an integer from 0 to 10000000, got -1.'],
    [{ concurrency: 1, perKey: 2 }, '`perKey` and `key` go together'],
    [{ concurrency: 1, concurency: 2 }, 'unknown option `concurency`. Did you mean `concurrency`?'],
  ])('L1/L4: limit(%j) is rejected at construction', (options, message) => {
    expect(() => limit(options as never)).toThrow(`limit(): ${message}`)
  })
})
