// expect: none
// A progress callback writes shared state the next call reads.
interface Api {
  downloadReport(opts: { onProgress: (p: number) => void }): Promise<string>
  getSummary(progress: number): Promise<string>
}

export async function report(api: Api, state: { progress: number }) {
  const file = await api.downloadReport({ onProgress: (p) => (state.progress = p) })
  const summary = await api.getSummary(state.progress)
  return { file, summary }
}
