// expect: 1 report
// expect: suggestion
// An array literal of three regions: a bare Promise.all is fine.
declare function getRegionStatus(region: string): Promise<string>
declare function print(s: string): void

export async function status() {
  for (const region of ['eu', 'us', 'ap']) {
    print(await getRegionStatus(region))
  }
}
