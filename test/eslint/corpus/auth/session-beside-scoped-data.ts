// expect: 1 report
// getSession() beside a call scoped by an id taken from the request.
declare function getSession(req: Request): Promise<{ userId: string } | null>
declare function getTeamMembers(teamId: string): Promise<unknown[]>

export async function GET(req: Request, { params }: { params: { teamId: string } }) {
  const [session, members] = await Promise.all([getSession(req), getTeamMembers(params.teamId)])
  return Response.json({ viewer: session?.userId ?? null, members })
}
