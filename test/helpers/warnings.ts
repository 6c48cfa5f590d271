/** Collects the process warnings of a given name emitted while `work` runs (and a turn after it). */
export async function warningsDuring(name: string, work: () => Promise<void>): Promise<Error[]> {
  const warnings: Error[] = []
  const onWarning = (w: Error): void => void (w.name === name && warnings.push(w))
  process.on('warning', onWarning)
  try {
    await work()
    // Node emits warnings on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', onWarning)
  }
  return warnings
}
