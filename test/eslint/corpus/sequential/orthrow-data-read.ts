// expect: fix
// findUniqueOrThrow by id is the page's data, not a check: nothing after it is scoped by it, so it
// runs beside the independent tag list.
interface Prisma {
  post: { findUniqueOrThrow(args: { where: { id: string } }): Promise<{ title: string; body: string }> }
  tag: { findMany(args: { orderBy: { name: 'asc' } }): Promise<{ name: string }[]> }
}

export async function editPostPage(prisma: Prisma, id: string) {
  const post = await prisma.post.findUniqueOrThrow({ where: { id } })
  const tags = await prisma.tag.findMany({ orderBy: { name: 'asc' } })
  return { post, tags }
}
