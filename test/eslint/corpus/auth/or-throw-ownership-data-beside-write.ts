// expect: 1 report
// expect: suggestion
// An ownership lookup (TypeORM findOneByOrFail with ownerId) whose result is returned, started
// together with a write on the same board: the write happens even for someone else's board.
// Reported although the lookup's result is also used as data.
interface Board {
  id: string
  ownerId: string
  title: string
}
declare const boards: {
  findOneByOrFail(where: { id: string; ownerId: string }): Promise<Board>
}
declare const cards: {
  update(where: { boardId: string }, patch: { archived: boolean }): Promise<{ affected: number }>
}

export async function archiveAllCards(boardId: string, userId: string) {
  const [board, result] = await Promise.all([
    boards.findOneByOrFail({ id: boardId, ownerId: userId }),
    cards.update({ boardId }, { archived: true }),
  ])
  return { board: board.title, archived: result.affected }
}
