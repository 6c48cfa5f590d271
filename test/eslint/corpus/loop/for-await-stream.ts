// expect: none
// for await over a stream: chunks arrive in order.
declare function readChunk(chunk: Uint8Array): Promise<void>

export async function consume(stream: AsyncIterable<Uint8Array>) {
  for await (const chunk of stream) {
    await readChunk(chunk)
  }
}
