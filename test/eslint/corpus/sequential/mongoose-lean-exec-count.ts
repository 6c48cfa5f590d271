// expect: fix
// Mongoose: findById().lean(), find().sort().limit().exec() and countDocuments() are three reads.
interface Query<T> extends PromiseLike<T> {
  lean(): Query<T>
  sort(spec: { [field: string]: 1 | -1 }): Query<T>
  limit(n: number): Query<T>
  exec(): Promise<T>
}
interface Models {
  User: { findById(id: string): Query<{ name: string } | null> }
  Post: { find(filter: { author: string }): Query<{ title: string }[]> }
  Comment: { countDocuments(filter: { author: string }): Query<number> }
}

export async function profileRoute({ User, Post, Comment }: Models, authorId: string) {
  const author = await User.findById(authorId).lean()
  const posts = await Post.find({ author: authorId }).sort({ createdAt: -1 }).limit(10).exec()
  const comments = await Comment.countDocuments({ author: authorId })
  return { author, posts, comments }
}
