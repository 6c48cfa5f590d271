/**
 * The HTML waterfall's stylesheet, inlined in the page (allowed by its hash in the page's CSP).
 * System fonts only: the page loads nothing.
 */
export const VIEWER_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1d2430; --muted: #5e6a7b; --line: #e3e7ed; --row-alt: #f7f9fb;
  --hover: #eaf1ff; --wait: #d5dbe3; --run: #2e9e5b; --fallback: #d08a00; --rejected: #d23f3f;
  --aborted: #9b4fb0; --critical: #2457d6; --critical-bg: #eef3ff; --tip-bg: #1d2430; --tip-fg: #f4f6f9;
  --name-w: 15rem; --status-w: 5.5rem; --num-w: 4.5rem;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14181f; --fg: #dfe5ee; --muted: #95a1b2; --line: #2a313c; --row-alt: #181d25;
    --hover: #1f2a3d; --wait: #3a4350; --critical: #7aa2ff; --critical-bg: #1a2236;
    --tip-bg: #f4f6f9; --tip-fg: #1d2430;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--fg);
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { padding: 12px 16px 8px; }
h1 { font-size: 16px; margin: 0 0 4px; font-weight: 600; overflow-wrap: anywhere; }
.summary, .counts { margin: 2px 0; color: var(--muted); overflow-wrap: anywhere; }
.summary b { color: var(--fg); }
.controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin-top: 8px; }
.controls input[type=search] { font: inherit; padding: 3px 6px; width: 16rem; max-width: 100%;
  border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 0; padding: 0; list-style: none;
  color: var(--muted); font-size: 12px; }
.legend li { display: flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; width: 14px; height: 9px; border-radius: 2px; }
.chart { position: relative; padding: 0 16px 24px; outline: none; }
.chart:focus-visible { outline: 2px solid var(--critical); outline-offset: -2px; }
.row, .axis { display: grid; align-items: center;
  grid-template-columns: var(--name-w) minmax(120px, 1fr) var(--status-w) var(--num-w) var(--num-w); }
.axis { position: sticky; top: 0; background: var(--bg); z-index: 2; height: 26px;
  border-bottom: 1px solid var(--line); color: var(--muted); font-size: 11px; }
.axis .num, .row .num { text-align: right; padding-right: 4px; font-variant-numeric: tabular-nums; }
.ticks { position: relative; height: 100%; }
.tick { position: absolute; bottom: 3px; transform: translateX(-50%); white-space: nowrap; }
.tick:first-child { transform: none; }
.tick.end { transform: translateX(-100%); }
.plot { position: relative; }
.grid { position: absolute; top: 0; bottom: 0; pointer-events: none; left: var(--name-w);
  right: calc(var(--status-w) + 2 * var(--num-w)); }
.gridline { position: absolute; top: 0; bottom: 0; width: 1px; background: rgba(128, 140, 155, 0.2); }
.row { height: 25px; content-visibility: auto; contain-intrinsic-size: auto 25px; position: relative; }
.row:nth-child(even) { background: var(--row-alt); }
.row.critical { background: var(--critical-bg); }
.row.hover { background: var(--hover); }
.row[hidden] { display: none; }
.name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 0 8px 0 14px; position: relative; }
.row.critical .name { font-weight: 600; }
.row.critical .name::before { content: ""; position: absolute; left: 2px; top: 50%; width: 7px; height: 7px;
  margin-top: -3.5px; transform: rotate(45deg); background: var(--critical); }
.gate-tag { font-size: 10px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px;
  padding: 0 3px; margin-left: 4px; font-weight: 400; }
.track { position: relative; height: 100%; }
.seg { position: absolute; top: 4px; height: 11px; min-width: 2px; }
.seg.wait { background: var(--wait); min-width: 0; }
.seg.work { border-radius: 1px; }
.fulfilled .seg.work { background: var(--run); }
.fallback .seg.work { background: var(--fallback); }
.rejected .seg.work { background: var(--rejected); }
.aborted .seg.work { background: repeating-linear-gradient(135deg, var(--aborted) 0 4px, transparent 4px 7px);
  outline: 1px solid var(--aborted); outline-offset: -1px; }
.row.critical .seg.work { box-shadow: 0 0 0 1.5px var(--critical); }
.sub { position: absolute; height: 3px; min-width: 2px; border-radius: 1px; }
.sub.l0 { top: 17px; } .sub.l1 { top: 21px; }
.sub.ok { background: #3f7fd8; } .sub.fail { background: var(--rejected); }
.sub.cut { background: var(--muted); }
.mark { position: absolute; top: 2px; width: 13px; height: 13px; margin-left: -6.5px; border-radius: 3px;
  font: 700 9px/13px system-ui, sans-serif; text-align: center; color: #fff; z-index: 1;
  box-shadow: 0 0 0 1px var(--bg); }
.mark-key { display: inline-block; width: 13px; height: 13px; border-radius: 3px; color: #fff;
  font: 700 9px/13px system-ui, sans-serif; text-align: center; margin-left: 6px; }
.mark-key:first-child { margin-left: 0; }
.retry { background: #e07b00; } .hedge { background: #7a5af5; } .won { background: #138a5a; }
.timeout { background: #c62828; } .budget { background: #6d4c41; } .circuit { background: #455a64; }
.legend-wait { background: var(--wait); } .legend-run { background: var(--run); }
.legend-fallback { background: var(--fallback); } .legend-rejected { background: var(--rejected); }
.legend-aborted { background: repeating-linear-gradient(135deg, var(--aborted) 0 4px, transparent 4px 7px);
  outline: 1px solid var(--aborted); outline-offset: -1px; }
.legend-critical { background: var(--run); box-shadow: 0 0 0 1.5px var(--critical); }
.legend-sub { height: 3px; background: #3f7fd8; }
.status { font-size: 12px; padding-left: 6px; }
.status.fulfilled { color: var(--run); } .status.fallback { color: var(--fallback); }
.status.rejected { color: var(--rejected); } .status.aborted { color: var(--aborted); }
.status.skipped { color: var(--muted); }
.tip { position: fixed; z-index: 10; max-width: min(460px, 90vw); padding: 8px 10px; border-radius: 6px;
  background: var(--tip-bg); color: var(--tip-fg); font-size: 12px; pointer-events: none;
  box-shadow: 0 4px 16px rgba(0,0,0,.25); }
.tip[hidden] { display: none; }
.tip h2 { font-size: 13px; margin: 0 0 4px; overflow-wrap: anywhere; }
.tip dl { display: grid; grid-template-columns: auto 1fr; gap: 1px 10px; margin: 0; }
.tip dt { opacity: .7; } .tip dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.tip ul { margin: 4px 0 0; padding-left: 16px; }
.empty { padding: 16px; color: var(--muted); }
`
