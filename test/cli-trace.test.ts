/**
 * `fanout trace view FILE [-o OUT.html]`: a trace file written with traceToJSON becomes the HTML
 * waterfall page. In-process through `main` for the cases, and once as the real executable for
 * the exit code and the streams.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { flow, traceFromJSON, traceToJSON, type FlowTrace } from '../src/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(join(tmpdir(), 'fanout-trace-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A real run's trace: a gate, a task that fails with a message holding a credential, a fallback. */
async function recordTrace(): Promise<FlowTrace> {
  let trace: FlowTrace | undefined
  await flow('checkout')
    .gate('auth', async () => 'u1')
    .task('<img src=x onerror=alert(1)>', async () => 1)
    .task(
      'recs',
      async () => {
        throw Object.assign(new Error('401 for token sk_live_SECRET'), { status: 401 })
      },
      { fallback: [] },
    )
    .run(undefined, { onTrace: (t) => (trace = t) })
  return trace!
}

const traceFile = join(dir, 'run.json')
writeFileSync(traceFile, traceToJSON(await recordTrace()))

async function fanout(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    isTTY: false,
    env: {},
    cwd: dir,
  })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('fanout trace view', () => {
  it('writes the page next to the trace file, .json replaced by .html, and prints its path', async () => {
    expect(await fanout('trace', 'view', 'run.json')).toEqual({ code: 0, out: 'run.html', err: '' })
    const html = readFileSync(join(dir, 'run.html'), 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain('<title>checkout · fanout trace</title>')
    // The trace file never held the message; the page has the error's name and status only.
    expect(readFileSync(traceFile, 'utf8')).not.toContain('SECRET')
    expect(html).not.toContain('SECRET')
    expect(html).toContain('"error":{"name":"Error","status":401}')
    expect(html).not.toContain('<img src=x')
  })

  it('-o and --title: the page goes where asked, under the title given', async () => {
    mkdirSync(join(dir, 'pages'), { recursive: true })
    const run = await fanout(
      'trace',
      'view',
      traceFile,
      '-o',
      'pages/one.html',
      '--title',
      'Slow checkout',
    )
    expect(run).toEqual({ code: 0, out: 'pages/one.html', err: '' })
    expect(readFileSync(join(dir, 'pages', 'one.html'), 'utf8')).toContain(
      '<title>Slow checkout</title>',
    )
    writeFileSync(join(dir, 'bare'), readFileSync(traceFile))
    expect(await fanout('trace', 'view', 'bare')).toEqual({ code: 0, out: 'bare.html', err: '' })
  })

  it('a file that is missing, a directory, not JSON or not a trace: one line saying so, exit 2', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"flow": ')
    writeFileSync(
      join(dir, 'other.json'),
      '{"flow":"x","status":"fulfilled","duration":1,"tasks":[{}]}',
    )
    expect(await fanout('trace', 'view', 'missing.json')).toEqual({
      code: 2,
      out: '',
      err: 'fanout trace: cannot read missing.json: no such file or directory.',
    })
    expect((await fanout('trace', 'view', 'pages')).err).toBe(
      'fanout trace: cannot read pages: it is a directory.',
    )
    const broken = await fanout('trace', 'view', 'broken.json')
    expect(broken.code).toBe(2)
    expect(broken.err).toMatch(
      /^fanout trace: broken\.json is not a fanout trace file \(not JSON \(.+\)\)\. Write one with traceToJSON\(trace\)\.$/,
    )
    expect(await fanout('trace', 'view', 'other.json')).toEqual({
      code: 2,
      out: '',
      err: 'fanout trace: other.json is not a fanout trace file (tasks[0].name must be a string, got undefined). Write one with traceToJSON(trace).',
    })
    expect(existsSync(join(dir, 'broken.html'))).toBe(false)
    expect((await fanout('trace', 'view', 'run.json', '-o', 'nowhere/x.html')).err).toBe(
      'fanout trace: cannot write nowhere/x.html: no such file or directory.',
    )
  })

  it('usage errors exit 2 with what to pass; --help prints the usage', async () => {
    const hint = ' Run "fanout trace --help" for the options.'
    expect(await fanout('trace', 'view')).toEqual({
      code: 2,
      out: '',
      err: `fanout trace: which trace file? Pass its path, e.g. fanout trace view trace.json.${hint}`,
    })
    expect((await fanout('trace', 'vew', 'run.json')).err).toBe(
      `fanout trace: unknown subcommand "vew". Did you mean "view"?${hint}`,
    )
    expect((await fanout('trace')).code).toBe(2)
    expect((await fanout('trace', 'view', 'a.json', 'b.json')).err).toBe(
      `fanout trace: one trace file at a time, got 2: "a.json", "b.json".${hint}`,
    )
    expect((await fanout('trace', 'view', 'run.json', '--ouput', 'x.html')).err).toBe(
      `fanout trace: unknown option "--ouput". Did you mean "--out"?${hint}`,
    )
    expect((await fanout('trace', 'view', 'run.json', '-o', 'run.json')).err).toBe(
      `fanout trace: --out run.json is the trace file itself; name another file.${hint}`,
    )
    expect((await fanout('trace', 'view', 'run.json', '--title', '')).err).toBe(
      `fanout trace: --title must be a non-empty string of at most 200 characters, got "".${hint}`,
    )
    for (const help of [
      ['trace', '--help'],
      ['trace', 'view', '-h'],
    ]) {
      const run = await fanout(...help)
      expect(run.code).toBe(0)
      expect(run.out).toMatch(/^Usage: fanout trace view <file> \[options\]/)
    }
    expect((await fanout('--help')).out).toMatch(/\n {2}trace {5}trace view <file>: /)
  })

  it('the page reads back: its file is a trace that round-trips', () => {
    const trace = traceFromJSON(readFileSync(traceFile, 'utf8'))
    expect(trace.tasks.map((t) => t.status)).toEqual(['fulfilled', 'fulfilled', 'fallback'])
  })

  it('as the executable: the path on stdout, nothing on stderr, exit 0', async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          join(root, 'src', 'cli', 'main.ts'),
          'trace',
          'view',
          traceFile,
          '-o',
          join(dir, 'exe.html'),
        ],
        { cwd: root, timeout: 30_000 },
        (error, stdout, stderr) =>
          done({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
      )
    })
    expect(run).toEqual({ code: 0, stdout: `${join(dir, 'exe.html')}\n`, stderr: '' })
    expect(existsSync(join(dir, 'exe.html'))).toBe(true)
  }, 30_000)
})
