// expect: none
// A write between two independent reads is a barrier: neither read may move across it.
interface Db {
  user: { findUnique(args: { where: { id: string } }): Promise<{ name: string } | null> }
  pageView: { create(args: { data: { userId: string; path: string } }): Promise<{ id: string }> }
  announcement: { findMany(args: { where: { active: boolean } }): Promise<{ text: string }[]> }
}

export async function homePage(db: Db, userId: string, path: string) {
  const user = await db.user.findUnique({ where: { id: userId } })
  const view = await db.pageView.create({ data: { userId, path } })
  const announcements = await db.announcement.findMany({ where: { active: true } })
  return { user, view, announcements }
}
