// expect: fix
// AWS SDK v3: s3.send(new GetObjectCommand | HeadObjectCommand | ListObjectsV2Command) are reads.
class Command<In, Out> { declare readonly output: Out; constructor(readonly input: In) {} }
type ObjectKey = { Bucket: string; Key: string }
class GetObjectCommand extends Command<ObjectKey, { Body?: { transformToString(): Promise<string> } }> {}
class HeadObjectCommand extends Command<ObjectKey, { ContentLength?: number }> {}
class ListObjectsV2Command extends Command<{ Bucket: string; Prefix: string }, { Contents?: { Key?: string }[] }> {}
interface S3 { send<Out>(command: Command<unknown, Out>): Promise<Out> }

export async function assetInfo(s3: S3, bucket: string, key: string, folder: string) {
  const manifest = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${folder}/manifest.json` }))
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folder }))
  return { manifest: manifest.Body, size: head.ContentLength, files: listing.Contents ?? [] }
}
