// expect: fix
// Seed "Parallel API Calls" (profile page): personal and professional data need only the user id.
interface Client { get(url: string): Promise<{ data: unknown }> }

export async function loadProfile(client: Client, userId: string, personalUrl: string, professionalUrl: string) {
  const personalData = await client.get(`${personalUrl}/${userId}`)
  const professionalData = await client.get(`${professionalUrl}/${userId}`)
  return { personalData, professionalData }
}
