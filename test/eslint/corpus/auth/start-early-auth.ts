// expect: 1 report
// The check is started first but only awaited after a private read.
declare function checkAccess(userId: string, docId: string): Promise<void>
declare function getDocument(docId: string): Promise<{ body: string }>

export async function read(userId: string, docId: string) {
  const access = checkAccess(userId, docId)
  const doc = await getDocument(docId)
  await access
  return doc
}
