// expect: none
// A UI flow: click, wait, read. Order is the point.
interface Page {
  click(selector: string): Promise<void>
  waitForTimeout(ms: number): Promise<void>
  textContent(selector: string): Promise<string | null>
}

export async function submitAndRead(page: Page) {
  await page.click('#submit')
  await page.waitForTimeout(100)
  const status = await page.textContent('#status')
  return status
}
