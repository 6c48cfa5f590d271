// expect: 1 report
// Start early, await late: the delete is started before ensureOwnership() has finished, so the
// attachment is deleted even when the caller does not own it.
declare function ensureOwnership(attachmentId: string, userId: string): Promise<void>
declare function deleteAttachment(attachmentId: string): Promise<{ deleted: boolean }>

export async function removeAttachment(attachmentId: string, userId: string) {
  const deletion = deleteAttachment(attachmentId)
  await ensureOwnership(attachmentId, userId)
  return await deletion
}
