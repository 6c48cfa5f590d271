// expect: 1 report
// expect: suggestion
// A membership lookup whose result is discarded (it only checks that the inviter belongs to the
// team) started together with the write it should guard: the invite is created even for outsiders.
declare const prisma: {
  membership: {
    findFirstOrThrow(q: { where: { teamId: string; userId: string } }): Promise<{ role: string }>
  }
  invite: {
    create(q: { data: { teamId: string; email: string; invitedBy: string } }): Promise<{ id: string }>
  }
}

export async function inviteToTeam(teamId: string, userId: string, email: string) {
  await Promise.all([
    prisma.membership.findFirstOrThrow({ where: { teamId, userId } }),
    prisma.invite.create({ data: { teamId, email, invitedBy: userId } }),
  ])
  return { ok: true }
}
