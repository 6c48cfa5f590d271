// expect: 1 report
// An *OrThrow ownership lookup beside an update (the result is discarded: a pure gate).
declare const db: {
  project: { findUniqueOrThrow(q: { where: { id: string; ownerId: string } }): Promise<unknown> }
  task: { updateMany(q: { where: { projectId: string }; data: { done: boolean } }): Promise<unknown> }
}

export async function completeAll(projectId: string, userId: string) {
  await Promise.all([
    db.project.findUniqueOrThrow({ where: { id: projectId, ownerId: userId } }),
    db.task.updateMany({ where: { projectId }, data: { done: true } }),
  ])
}
