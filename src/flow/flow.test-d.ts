import { describe, expectTypeOf, it } from 'vitest'
import {
  flow,
  pipe,
  timeout,
  type FlowExit,
  type Outcome,
  type Deps,
  type TaskContext,
  type Policy,
  type Call,
  type CallContext,
} from '../index.js'

describe('flow types', () => {
  it('infers every result and $ from the builder', async () => {
    const f = flow<{ token: string }>()
      .gate('auth', (_, ctx) => {
        expectTypeOf(ctx.input).toEqualTypeOf<{ token: string }>()
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>()
        return Promise.resolve({ userId: 'u1' })
      })
      .task('user', async ($) => {
        expectTypeOf($.auth).toEqualTypeOf<Promise<{ userId: string }>>()
        const { userId } = await $.auth
        return { id: userId, age: 3 }
      })
      .tasks({
        settings: async ($) => {
          expectTypeOf($).toEqualTypeOf<
            Deps<{ auth: { userId: string }; user: { id: string; age: number } }>
          >()
          return { theme: 'dark' as const }
        },
        balance: () => 42,
      })
      .task('access', async ($) => (await $.user).age > (await $.balance))
    const result = await f.run({ token: 't' })
    expectTypeOf(result).toEqualTypeOf<{
      auth: { userId: string }
      user: { id: string; age: number }
      settings: { theme: 'dark' }
      balance: number
      access: boolean
    }>()
  })

  it('types an optional task as T | Fallback, for values and fallback functions', async () => {
    const f = flow()
      .task('reviews', () => Promise.resolve(['great']), { fallback: null })
      .task('recs', () => Promise.resolve([1, 2]), { fallback: () => 'none' as const })
      .task('count', async ($) => {
        expectTypeOf($.reviews).toEqualTypeOf<Promise<string[] | null>>()
        return 1
      })
    const { reviews, recs } = await f.run()
    expectTypeOf(reviews).toEqualTypeOf<string[] | null>()
    expectTypeOf(recs).toEqualTypeOf<number[] | 'none'>()
  })

  it('types settle() as outcomes and exits as FlowExit', async () => {
    const f = flow().task('a', () => 1)
    expectTypeOf(await f.settle()).toEqualTypeOf<{ readonly a: Outcome<number> }>()
    const g = flow<void, Response>().task('a', (_, { exit }) => {
      expectTypeOf(exit).toEqualTypeOf<(value: Response) => never>()
      return 'x'
    })
    expectTypeOf(await g.run()).toEqualTypeOf<{ a: string } | FlowExit<Response>>()
  })

  it('makes misuse a type error', () => {
    const f = flow<{ id: string }>().task('user', () => 1)
    // Reading a task that does not exist.
    f.task('b', async ($) => {
      // @ts-expect-error no task "usr"
      await $.usr
      return 1
    })
    // A task reads only earlier tasks, so it cannot read itself.
    f.task('self', async ($) => {
      // @ts-expect-error "self" is not readable from itself
      await $.self
      return 1
    })
    // @ts-expect-error duplicate name
    f.task('user', () => 2)
    // @ts-expect-error `after` names an unknown task
    f.task('c', () => 1, { after: ['nope'] })
    // @ts-expect-error unknown option
    f.task('d', () => 1, { timout: 5 })
    // @ts-expect-error run needs the input
    void f.run()
    // @ts-expect-error wrong input type
    void f.run({ id: 1 })
    // @ts-expect-error exit is typed never when the flow declares no exit type
    f.task('e', (_, { exit }) => exit('x'))
    const noInput = flow().task('a', () => 1)
    void noInput.run()
  })

  it('lets policies keep the task context type', () => {
    const logging: Policy = {
      name: 'log',
      wrap<T, C extends CallContext>(next: Call<T, C>): Call<T, C> {
        return (ctx) => next(ctx)
      },
    }
    const p = pipe(logging, timeout(100))
    expectTypeOf(p.policies).toEqualTypeOf<readonly Policy[]>()
    const call = p.wrap((ctx: TaskContext<{ id: string }>) => Promise.resolve(ctx.input.id))
    expectTypeOf(call).toEqualTypeOf<Call<string, TaskContext<{ id: string }>>>()
  })
})
