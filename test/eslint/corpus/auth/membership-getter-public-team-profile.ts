// expect: none
// getMembership() as an attribute: it only decides whether to show the "Edit" button on a public
// team page; the profile is public (getPublicTeamProfile).
interface Membership {
  role: 'owner' | 'member'
}
interface TeamProfile {
  name: string
  description: string
}
declare function getMembership(slug: string): Promise<Membership | null>
declare function getPublicTeamProfile(slug: string): Promise<TeamProfile>

export async function teamPage(slug: string) {
  const [membership, profile] = await Promise.all([getMembership(slug), getPublicTeamProfile(slug)])
  return { ...profile, canEdit: membership?.role === 'owner' }
}
