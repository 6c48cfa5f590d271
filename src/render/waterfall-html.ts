/**
 * The waterfall of one run as a self-contained HTML page: open it in a browser, no server, no
 * network. Pure and runtime-neutral, like the terminal waterfall.
 *
 * @example
 * await page.run(input, { onTrace: (trace) => writeFileSync('run.html', renderWaterfallHtml(trace)) })
 */
import { InvalidOptionError } from '../core/errors.js'
import { checkKnownKeys, show, snapshot } from '../core/validate.js'
import type { FlowTrace } from '../flow/trace.js'
import { sha256Base64 } from './sha256.js'
import { isFlowTrace } from './trace-json.js'
import { viewerData } from './viewer-model.js'
import { VIEWER_SCRIPT } from './viewer-script.js'
import { VIEWER_STYLE } from './viewer-style.js'

export interface WaterfallHtmlOptions {
  /** The page's title and heading. Default: the flow's name and "fanout trace". */
  readonly title?: string
}

const WHERE = 'renderWaterfallHtml()'
const OPTIONS = ['title'] as const
const TITLE_MAX = 200

let policy: string | undefined

/**
 * Renders `trace` as one HTML document (inline CSS and script, nothing loaded from anywhere; a
 * Content-Security-Policy allows only its own script and style). It shows, on a shared time axis,
 * a row per task: the time it waited (light) and worked (solid, coloured by how it ended), the
 * critical path highlighted, its attempts or HTTP requests as thin bars under it, and its retries,
 * hedges and timeouts as marks. Hovering a row (or moving with ↑/↓) shows its start, end, `ran`
 * and `waited` (the terminal waterfall's numbers), what it waited on, its status and its error's
 * name, code and status. Error messages are never included: they may quote credentials.
 *
 * Task names and every other string are shown as text, never as markup; the data travels as JSON
 * the page parses. A thousand tasks render in well under a second.
 */
export function renderWaterfallHtml(trace: FlowTrace, options?: WaterfallHtmlOptions): string {
  const { title } = checkOptions(options)
  checkTrace(trace)
  const data = viewerData(trace, title ?? `${trace.flow} · fanout trace`)
  policy ??= [
    "default-src 'none'",
    `script-src 'sha256-${sha256Base64(VIEWER_SCRIPT)}'`,
    `style-src 'sha256-${sha256Base64(VIEWER_STYLE)}'`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="fanout renderWaterfallHtml">
<title>${escapeHtml(data.title)}</title>
<style>${VIEWER_STYLE}</style>
</head>
<body>
<header>
<h1 id="title">${escapeHtml(data.title)}</h1>
<p class="summary" id="summary"></p>
<p class="counts" id="counts"></p>
<div class="controls">
<input type="search" id="filter" placeholder="Filter tasks by name" aria-label="Filter tasks by name">
<label><input type="checkbox" id="only-critical"> critical path only</label>
<ul class="legend" aria-label="Legend">
<li><span class="swatch legend-wait"></span>waiting</li>
<li><span class="swatch legend-run"></span>working</li>
<li><span class="swatch legend-fallback"></span>fell back</li>
<li><span class="swatch legend-rejected"></span>failed</li>
<li><span class="swatch legend-aborted"></span>cut off</li>
<li><span class="swatch legend-critical"></span>critical path</li>
<li><span class="swatch legend-sub"></span>attempt / request</li>
<li><span class="mark-key retry">R</span>retry <span class="mark-key hedge">H</span>hedge <span class="mark-key won">W</span>hedge won <span class="mark-key timeout">T</span>timeout</li>
</ul>
</div>
</header>
<noscript><p class="empty">This page draws the trace with JavaScript; turn it on to see the waterfall.</p></noscript>
<main class="chart" id="chart" tabindex="0" role="table" aria-label="Tasks on a time axis; hover a row, or use the up and down arrow keys, for its details">
<div class="axis" role="row"><div role="columnheader">task</div><div class="ticks" id="ticks" role="columnheader"></div><div role="columnheader" class="status">status</div><div role="columnheader" class="num">ran</div><div role="columnheader" class="num">waited</div></div>
<div class="plot"><div class="rows" id="rows" role="rowgroup"></div><div class="grid" id="grid"></div></div>
</main>
<div class="tip" id="tip" role="tooltip" hidden></div>
<script type="application/json" id="fanout-trace">${jsonForHtml(data)}</script>
<script>${VIEWER_SCRIPT}</script>
</body>
</html>
`
}

/** Text for an HTML element's content or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )
}

/**
 * JSON that cannot end the `<script>` element holding it (`</script>`, `<!--`) nor be read
 * differently by an older JavaScript parser (U+2028, U+2029): each such character escaped.
 */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function checkOptions(raw: WaterfallHtmlOptions | undefined): { title: string | undefined } {
  const options = snapshot(WHERE, raw)
  checkKnownKeys(WHERE, options, OPTIONS)
  const title = options.title
  if (
    title !== undefined &&
    (typeof title !== 'string' || title.trim() === '' || title.length > TITLE_MAX)
  )
    throw new InvalidOptionError(
      `${WHERE}: \`title\` must be a non-empty string of at most ${TITLE_MAX} characters, got ${show(title)}.`,
    )
  return { title }
}

function checkTrace(trace: unknown): asserts trace is FlowTrace {
  if (!isFlowTrace(trace))
    throw new InvalidOptionError(
      `${WHERE}: expected a FlowTrace (what \`onTrace\` receives), got ${show(trace)}.`,
    )
}
