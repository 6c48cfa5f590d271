// expect: none
// updateRule then re-reading the rule.
interface Rules {
  updateRule(id: string, patch: { enabled: boolean }): Promise<void>
  getRule(id: string): Promise<{ enabled: boolean }>
}

export async function toggle(rules: Rules, id: string) {
  await rules.updateRule(id, { enabled: true })
  const rule = await rules.getRule(id)
  return rule
}
