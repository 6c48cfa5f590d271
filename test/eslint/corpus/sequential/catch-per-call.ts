// expect: fix
// A per-call .catch stays on its element.
interface Services {
  getWeather(city: string): Promise<{ temp: number }>
  getNews(city: string): Promise<string[]>
}

export async function cityWidget(services: Services, city: string) {
  const weather = await services.getWeather(city).catch(() => null)
  const news = await services.getNews(city).catch(() => [] as string[])
  return { weather, news }
}
