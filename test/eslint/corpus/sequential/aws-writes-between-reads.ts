// expect: none
// AWS SDK v3: PutObjectCommand, DeleteItemCommand and SendEmailCommand are writes; reads sit between them.
class Command<In, Out> { declare readonly output: Out; constructor(readonly input: In) {} }
type ObjectKey = { Bucket: string; Key: string }
type ItemKey = { TableName: string; Key: { pk: { S: string } } }
class GetObjectCommand extends Command<ObjectKey, { ETag?: string }> {}
class PutObjectCommand extends Command<ObjectKey & { Body: string }, { ETag?: string }> {}
class GetItemCommand extends Command<ItemKey, { Item?: unknown }> {}
class DeleteItemCommand extends Command<ItemKey, { Attributes?: unknown }> {}
type Email = { Destination: { ToAddresses: string[] }; Source: string }
class SendEmailCommand extends Command<Email, { MessageId?: string }> {}
interface Client { send<Out>(command: Command<unknown, Out>): Promise<Out> }

export async function rotateExport(
  { s3, ddb, ses }: { s3: Client; ddb: Client; ses: Client },
  bucket: string,
  userId: string,
  email: string,
) {
  const key = `exports/${userId}.csv`
  const previous = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  const stored = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'id,total' }))
  const job = await ddb.send(new GetItemCommand({ TableName: 'jobs', Key: { pk: { S: userId } } }))
  const removed = await ddb.send(new DeleteItemCommand({ TableName: 'locks', Key: { pk: { S: userId } } }))
  const mail = await ses.send(
    new SendEmailCommand({ Destination: { ToAddresses: [email] }, Source: 'no-reply@example.com' }),
  )
  return { previous, stored, job, removed, mail }
}
