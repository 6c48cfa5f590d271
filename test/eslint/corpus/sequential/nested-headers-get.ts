// expect: suggestion only
// (await headers()).get(...) nested in an expression, then an independent read.
interface Deps {
  headers(): Promise<{ get(name: string): string | null }>
  getFeatureFlags(): Promise<string[]>
}

export async function layoutData({ headers, getFeatureFlags }: Deps) {
  const ua = (await headers()).get('user-agent')
  const flags = await getFeatureFlags()
  return { ua, flags }
}
