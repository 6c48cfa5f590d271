// expect: none
// Two writes: if the email fails, the audit entry must not be written.
interface Deps {
  mailer: { sendWelcome(to: string): Promise<void> }
  audit: { record(event: string): Promise<void> }
}

export async function onboard({ mailer, audit }: Deps, email: string) {
  await mailer.sendWelcome(email)
  await audit.record('welcome-sent')
}
