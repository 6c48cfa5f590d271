// expect: suggestion only
// Inside one try, with a log line between the reads.
interface Api {
  listAlerts(id: string): Promise<string[]>
  listIncidents(id: string): Promise<string[]>
}
interface Logger { info(msg: string): void }

export async function statusPage(api: Api, logger: Logger, id: string) {
  try {
    const alerts = await api.listAlerts(id)
    logger.info('alerts loaded')
    const incidents = await api.listIncidents(id)
    return { alerts, incidents }
  } catch (error) {
    return { alerts: [], incidents: [], error: String(error) }
  }
}
