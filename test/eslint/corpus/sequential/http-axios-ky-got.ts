// expect: fix
// Three HTTP clients, three GETs to different services: axios.get, ky.get().json(), got(url).json().
interface Axios { get<T>(url: string, config?: { params: { [k: string]: string } }): Promise<{ data: T }> }
interface Ky { get(url: string): { json<T>(): Promise<T> } }
interface Got { (url: string): { json<T>(): Promise<T> } }

export async function GET(axios: Axios, ky: Ky, got: Got, city: string) {
  const { data: weather } = await axios.get<{ temp: number }>('https://weather.example/v1', { params: { city } })
  const events = await ky.get(`https://events.example/cities/${city}`).json<{ title: string }[]>()
  const rates = await got('https://fx.example/latest').json<{ [currency: string]: number }>()
  return { weather, events, rates }
}
