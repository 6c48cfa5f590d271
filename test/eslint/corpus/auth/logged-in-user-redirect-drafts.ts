// expect: 1 report
// expect: suggestion
// getLoggedInUser() is used as a gate (redirect when absent), yet the drafts start beside it.
declare function getLoggedInUser(): Promise<{ id: string } | null>
declare function getDrafts(): Promise<{ id: string; title: string }[]>
declare function redirect(url: string): never

export default async function DraftsPage() {
  const [user, drafts] = await Promise.all([getLoggedInUser(), getDrafts()])
  if (!user) redirect('/login?next=/drafts')
  return { drafts }
}
