// expect: none
// Promise.race of the check against a timer: no data call beside it.
declare function authenticateRequest(req: Request): Promise<{ userId: string }>
declare function timeout(ms: number): Promise<never>

export async function guard(req: Request) {
  return await Promise.race([authenticateRequest(req), timeout(1_000)])
}
