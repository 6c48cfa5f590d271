// expect: none
// A catch that returns is a gate: when the session read fails, the data read must not run.
interface Api {
  getSession(token: string): Promise<{ userId: string }>
  getInbox(): Promise<string[]>
}

export async function inbox(api: Api, token: string) {
  let session: { userId: string }
  try {
    session = await api.getSession(token)
  } catch {
    return { status: 401 }
  }
  let messages: string[]
  try {
    messages = await api.getInbox()
  } catch {
    messages = []
  }
  return { session, messages }
}
