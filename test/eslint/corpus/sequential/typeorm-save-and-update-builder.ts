// expect: none
// TypeORM: repo.save(...) and createQueryBuilder().update().set().where().execute() are writes between reads.
interface Execute { execute(): Promise<{ affected?: number }> }
interface UpdateBuilder { set(values: { lastSeenAt: string }): { where(sql: string, params: { id: string }): Execute } }
interface Repo<T> {
  findOneBy(where: { id: string }): Promise<T | null>
  save(entity: { userId: string; body: string }): Promise<T>
  createQueryBuilder(): { update(): UpdateBuilder }
}
interface Repos { replies: Repo<{ id: string }>; users: Repo<{ name: string }>; threads: Repo<{ title: string }> }

export async function postReply(repos: Repos, userId: string, threadId: string, body: string, now: string) {
  const { replies, users, threads } = repos
  const thread = await threads.findOneBy({ id: threadId })
  const reply = await replies.save({ userId, body })
  const author = await users.findOneBy({ id: userId })
  const touched = await users
    .createQueryBuilder()
    .update()
    .set({ lastSeenAt: now })
    .where('id = :id', { id: userId })
    .execute()
  return { thread, reply, author, touched }
}
