// expect: fix
// Next.js page: searchParams and cookies() are cheap request-scoped reads (low priority).
interface Deps { cookies(): Promise<{ get(name: string): string | undefined }> }

export async function SearchPage(
  { searchParams }: { searchParams: Promise<{ q?: string }> },
  { cookies }: Deps,
) {
  const { q } = await searchParams
  const cookieStore = await cookies()
  return { q: q ?? '', theme: cookieStore.get('theme') }
}
