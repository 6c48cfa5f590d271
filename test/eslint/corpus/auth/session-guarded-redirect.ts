// expect: 1 report
// getServerSession() used as a gate (redirect when absent) beside a data call.
declare function getServerSession(): Promise<{ user: { id: string } } | null>
declare function getProjects(): Promise<unknown[]>
declare function redirect(url: string): never

export default async function ProjectsPage() {
  const [session, projects] = await Promise.all([getServerSession(), getProjects()])
  if (!session) redirect('/login')
  return { projects }
}
