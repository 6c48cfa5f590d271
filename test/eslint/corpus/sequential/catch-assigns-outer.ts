// expect: none
// The try assigns a module variable, not a `let` of this block: other code may read it meanwhile.
interface Api {
  getFlags(): Promise<string[]>
  getBanner(): Promise<string>
}
let flags: string[] = []

export async function refresh(api: Api) {
  try {
    flags = await api.getFlags()
  } catch {
    flags = []
  }
  let banner: string
  try {
    banner = await api.getBanner()
  } catch {
    banner = ''
  }
  return { flags, banner }
}
