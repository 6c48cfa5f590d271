// expect: none
// Polling until a job completes.
declare function getJobStatus(id: string): Promise<'running' | 'done'>
declare function delay(ms: number): Promise<void>

export async function waitForJob(id: string) {
  let status = await getJobStatus(id)
  while (status !== 'done') {
    await delay(500)
    status = await getJobStatus(id)
  }
}
