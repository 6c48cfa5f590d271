// expect: none
// A method of `this` sets state the next call reads.
interface Http { getJson(url: string, token: string): Promise<unknown> }

class Client {
  token = ''
  constructor(private readonly http: Http) {}

  async login(): Promise<void> {
    this.token = 'secret'
  }

  async profile() {
    await this.login()
    const me = await this.http.getJson('/me', this.token)
    return me
  }
}

export async function profile(http: Http) {
  return new Client(http).profile()
}
