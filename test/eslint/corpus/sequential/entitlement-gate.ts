// expect: none
// An entitlement assertion before the AI call.
interface Deps {
  assertHasAiAccess(userId: string): Promise<void>
  getCompletion(prompt: string): Promise<string>
}

export async function complete(deps: Deps, userId: string, prompt: string) {
  await deps.assertHasAiAccess(userId)
  const text = await deps.getCompletion(prompt)
  return text
}
