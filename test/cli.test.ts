/**
 * The `fanout` executable as a user runs it: a child process (through tsx, from the source), so
 * the exit code and which stream each line goes to are the real ones.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string
}

function fanout(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...argv],
      { cwd: root, timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        }),
    )
  })
}

describe('the fanout command', () => {
  it('with no arguments: the usage on stderr, nothing on stdout, exit 2', async () => {
    const run = await fanout()
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^Usage: fanout <command> \[options\]/)
    expect(run.stderr).toContain('--version')
  }, 30_000)

  it('--version and -v print the version from package.json, exit 0', async () => {
    const [long, short] = await Promise.all([fanout('--version'), fanout('-v')])
    expect(long).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
    expect(short).toEqual(long)
  }, 30_000)

  it('--help prints the usage on stdout, exit 0; an unknown command or option exits 2 with a did-you-mean', async () => {
    const [help, typo, option] = await Promise.all([
      fanout('--help'),
      fanout('lnit'),
      fanout('--verison'),
    ])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: fanout <command>/)
    expect(typo).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'fanout: unknown command "lnit". Did you mean "lint"? Run "fanout --help" for the commands.\n',
    })
    expect(option).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'fanout: unknown option "--verison". Did you mean "--version"? Run "fanout --help" for the commands.\n',
    })
  }, 30_000)

  it('a demo flag error exits 2 with one line on stderr, before any upstream starts', async () => {
    const run = await fanout('demo', '--failure-rate', '0.9')
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'fanout demo: --failure-rate must be a number from 0 to 0.5, got "0.9". Run "fanout demo --help" for the options.\n',
    })
  }, 30_000)
})
