// expect: none
// Mongoose `.orFail()` reads of a public profile and its posts: both are shown, no check involved.
interface Profile {
  handle: string
  bio: string
}
interface Post {
  title: string
}
interface Q<T> {
  orFail(): Promise<T>
  lean(): Q<T>
}
declare const ProfileModel: { findOne(filter: { handle: string }): Q<Profile> }
declare const PostModel: { find(filter: { authorHandle: string; published: boolean }): Promise<Post[]> }

export async function profilePage(handle: string) {
  const [profile, posts] = await Promise.all([
    ProfileModel.findOne({ handle }).lean().orFail(),
    PostModel.find({ authorHandle: handle, published: true }),
  ])
  return { profile, posts }
}
