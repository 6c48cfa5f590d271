// expect: none
// Promise.allSettled has another contract (it never rejects): a plain read is not added to it.
interface Api {
  getWeather(city: string): Promise<{ temp: number }>
  getTraffic(city: string): Promise<{ level: number }>
  getCity(city: string): Promise<{ name: string }>
}

export async function cityWidgets(api: Api, city: string) {
  const [weather, traffic] = await Promise.allSettled([api.getWeather(city), api.getTraffic(city)])
  const info = await api.getCity(city)
  return { weather, traffic, info }
}
