/**
 * `--format sarif`: SARIF 2.1.0, the format GitHub code scanning (and other code-scanning UIs)
 * upload. One run: the rules that ran as `tool.driver.rules`, one result per remaining finding,
 * file locations relative to `%SRCROOT%` (the working directory) so they match the repository.
 *
 * A file that could not be parsed or read is a result of the synthetic rule `fanout/parse-error`
 * (level error): GitHub wants a rule id on each result, and the file was not checked at all.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { EngineRule } from './lint-engine.js'
import { remaining, type FileResult, type Finding } from './lint-format.js'

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'
export const PARSE_ERROR_RULE = 'fanout/parse-error'

type Level = 'warning' | 'error'

interface ReportingDescriptor {
  readonly id: string
  readonly shortDescription: { readonly text: string }
  readonly fullDescription: { readonly text: string }
  readonly helpUri?: string
  readonly defaultConfiguration: { readonly level: Level }
}

/** fanout's version and repository, from its package.json (two levels up from src/cli and dist/cli). */
export function packageInfo(): { version: string; repository: string | undefined } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown
    repository?: unknown
  }
  const field = pkg.repository
  const raw =
    typeof field === 'string'
      ? field
      : typeof (field as { url?: unknown } | null)?.url === 'string'
        ? (field as { url: string }).url
        : undefined
  return { version: String(pkg.version), repository: repositoryUrl(raw) }
}

/** A browsable https URL for package.json's `repository` (`git+https://…/x.git`, `github:o/r`, `o/r`). */
export function repositoryUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const text = raw.trim()
  const short = /^(?:(github|gitlab|bitbucket):)?([\w.-]+\/[\w.-]+)$/.exec(text)
  if (short !== null) {
    const host =
      short[1] === 'gitlab'
        ? 'gitlab.com'
        : short[1] === 'bitbucket'
          ? 'bitbucket.org'
          : 'github.com'
    return `https://${host}/${short[2]!.replace(/\.git$/, '')}`
  }
  const url = text
    .replace(/^git\+/, '')
    .replace(/^git@([^:]+):/, 'https://$1/')
    .replace(/^(?:git|ssh):\/\/(?:git@)?/, 'https://')
    .replace(/\.git$/, '')
  return /^https?:\/\//.test(url) ? url : undefined
}

/** The anchor of a rule's section in docs/lint.md (GitHub's heading slugs). */
function docsAnchor(id: string): string {
  return id === PARSE_ERROR_RULE ? 'fanout-lint' : id.replace(/^fanout\//, '')
}

function descriptor(rule: EngineRule, docs: string | undefined): ReportingDescriptor {
  const description = rule.meta?.docs?.description ?? rule.id
  const sentence = /[.!?]$/.test(description) ? description : `${description}.`
  const how = rule.meta?.fixable
    ? ' `fanout lint --fix` rewrites the proven-safe cases; the others get a suggestion in the editor.'
    : rule.meta?.hasSuggestions
      ? ' The editor offers the rewrite as a suggestion.'
      : ''
  return {
    id: rule.id,
    shortDescription: { text: description },
    fullDescription: { text: `${sentence}${how}` },
    ...(docs === undefined ? {} : { helpUri: `${docs}#${docsAnchor(rule.id)}` }),
    defaultConfiguration: { level: rule.severity === 2 ? 'error' : 'warning' },
  }
}

const PARSE_ERROR: EngineRule = {
  id: PARSE_ERROR_RULE,
  severity: 2,
  meta: {
    docs: {
      description:
        'The file could not be parsed (or read), so fanout lint could not check it: fix the syntax error',
    },
  },
}

/** The file's URI: relative to `%SRCROOT%` (percent-encoded, forward slashes), or absolute outside it. */
function artifactLocation(file: FileResult): { uri: string; uriBaseId?: string } {
  if (file.path.startsWith('../') || isAbsolute(file.path))
    return { uri: pathToFileURL(file.absolutePath).href }
  return { uri: file.path.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' }
}

function region(f: Finding): Record<string, number> {
  // SARIF columns start at 1 like ESLint's; a parse error may say column 0.
  const r: Record<string, number> = {
    startLine: Math.max(1, f.line),
    startColumn: Math.max(1, f.column),
  }
  if (f.endLine !== undefined) r['endLine'] = Math.max(r['startLine']!, f.endLine)
  if (f.endColumn !== undefined) r['endColumn'] = Math.max(1, f.endColumn)
  return r
}

export interface SarifInput {
  readonly cwd: string
  readonly rules: readonly EngineRule[]
  readonly results: readonly FileResult[]
  /** Defaults to fanout's package.json; a seam for tests. */
  readonly tool?: { version: string; repository: string | undefined }
}

/** The SARIF 2.1.0 log of a run, as an object (see `formatSarif`). */
export function sarifLog(input: SarifInput): Record<string, unknown> {
  const tool = input.tool ?? packageInfo()
  const docs =
    tool.repository === undefined ? undefined : `${tool.repository}/blob/HEAD/docs/lint.md`
  const findings = input.results.flatMap((file) => remaining(file).map((f) => ({ file, f })))
  const rules = [...input.rules]
  if (findings.some(({ f }) => f.ruleId === null)) rules.push(PARSE_ERROR)
  const index = new Map(rules.map((r, i) => [r.id, i]))
  const results = findings.map(({ file, f }) => {
    const ruleId = f.ruleId ?? PARSE_ERROR_RULE
    // A rule id not among the rules that ran has no descriptor to point at.
    const ruleIndex = index.get(ruleId)
    return {
      ruleId,
      ...(ruleIndex === undefined ? {} : { ruleIndex }),
      level: (f.fatal || f.severity === 2 ? 'error' : 'warning') as Level,
      message: { text: f.message },
      locations: [
        { physicalLocation: { artifactLocation: artifactLocation(file), region: region(f) } },
      ],
    }
  })
  const root = pathToFileURL(input.cwd).href
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'fanout',
            ...(tool.repository === undefined ? {} : { informationUri: tool.repository }),
            version: tool.version,
            rules: rules.map((r) => descriptor(r, docs)),
          },
        },
        // The spec wants the base URI to end with a slash.
        originalUriBaseIds: { '%SRCROOT%': { uri: root.endsWith('/') ? root : `${root}/` } },
        invocations: [{ executionSuccessful: true }],
        results,
      },
    ],
  }
}

export function formatSarif(input: SarifInput): string {
  return JSON.stringify(sarifLog(input), null, 2)
}
