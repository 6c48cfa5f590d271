// expect: none
// The first call writes `token` through a callback; the second reads it.
interface Api {
  loadConfig(onToken: (t: string) => void): Promise<{ region: string }>
  getData(token: string): Promise<string[]>
}

export async function withToken(api: Api) {
  let token = ''
  const config = await api.loadConfig((t) => {
    token = t
  })
  const data = await api.getData(token)
  return { config, data }
}
