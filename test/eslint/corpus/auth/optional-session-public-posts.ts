// expect: none
// Optional session on a public page: the session only chooses the login/logout button.
declare function getSession(): Promise<{ user: { name: string } } | null>
declare function getPublicPosts(): Promise<{ title: string }[]>

export async function HomePage() {
  const [session, posts] = await Promise.all([getSession(), getPublicPosts()])
  return { button: session ? `Log out ${session.user.name}` : 'Log in', posts }
}
