// expect: none
// getLoggedInUser() only picks the greeting; the changelog is the same for everyone.
declare function getLoggedInUser(): Promise<{ firstName: string } | null>
declare function getChangelogEntries(limit: number): Promise<{ version: string; notes: string }[]>

export default async function ChangelogPage() {
  const [user, entries] = await Promise.all([getLoggedInUser(), getChangelogEntries(20)])
  return { greeting: user ? `Welcome back, ${user.firstName}` : 'What is new', entries }
}
