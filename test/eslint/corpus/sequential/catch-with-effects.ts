// expect: none
// A catch that logs, a finally, or a fallback that calls code: each has an effect whose order matters.
interface Api {
  getA(): Promise<number>
  getB(): Promise<number>
  getC(): Promise<number>
  getD(): Promise<number>
}
interface Metrics { miss(name: string): void; fallbackFor(name: string): number }

export async function widgets(api: Api, metrics: Metrics) {
  let a: number
  try {
    a = await api.getA()
  } catch {
    metrics.miss('a')
    a = 0
  }
  let b: number
  try {
    b = await api.getB()
  } finally {
    metrics.miss('b')
  }
  let c: number
  try {
    c = await api.getC()
  } catch {
    c = metrics.fallbackFor('c')
  }
  let d: number
  try {
    d = await api.getD()
  } catch {
    d = metrics.fallbackFor('d')
  }
  return a + b + c + d
}
