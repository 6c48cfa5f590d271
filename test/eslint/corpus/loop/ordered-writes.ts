// expect: none
// Writes whose order may matter (migrations): never suggested.
declare function runMigration(name: string): Promise<void>

export async function migrate(names: string[]) {
  for (const name of names) {
    await runMigration(name)
  }
}
