/**
 * HTML for the web console: one escape helper every page uses for every value it did not write
 * itself (run ids, task names, model specs, artifact text, error messages), and the page shell.
 * Nothing is loaded from elsewhere: the style and the one small script are inline, and the
 * Content-Security-Policy allows exactly those two (by hash) and nothing else.
 */
import { createHash } from 'node:crypto';
import { BENCH_STYLE } from './styles/bench.js';
import { DOCUMENT_STYLE } from './styles/document.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and for double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A query string from the params that have a value (`?a=1&b=2`), or '' when none has. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 1rem 3rem; color: #1b1b1b; }
header { display: flex; gap: 1rem; align-items: baseline; border-bottom: 1px solid #ddd; margin-bottom: 1rem; }
header a { text-decoration: none; color: inherit; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre.doc { white-space: pre-wrap; word-wrap: break-word; background: #fafafa; border: 1px solid #eee; padding: .75rem; max-height: 40rem; overflow: auto; }
mark { background: #ffd54f; cursor: help; }
.notice { padding: .5rem .75rem; border-radius: 4px; margin: .75rem 0; }
.notice.ok { background: #e8f5e9; border: 1px solid #a5d6a7; }
.notice.error { background: #ffebee; border: 1px solid #ef9a9a; }
.gate { border: 2px solid #ffb300; border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
.gate form { display: inline-block; margin: .25rem .5rem .25rem 0; vertical-align: top; }
.gate textarea { width: 28rem; height: 4rem; display: block; }
.muted { color: #666; }
form.filters { margin-bottom: .75rem; }
nav.pages a, nav.pages span { margin-right: .75rem; }
ol.timeline { list-style: none; padding-left: 0; border-left: 3px solid #ddd; margin-left: .5rem; }
ol.timeline li.step { padding: .25rem .75rem; margin: .25rem 0; border-left: 3px solid #81c784; margin-left: -3px; }
ol.timeline li.step.failed { border-left-color: #e57373; }
ol.timeline .step-no { font-weight: 600; font-variant-numeric: tabular-nums; }
ol.timeline .step-exit, ol.timeline .step-duration { color: #555; margin-left: .5rem; }
pre.step-output { white-space: pre-wrap; background: #f5f5f5; padding: .5rem; max-height: 16rem; overflow: auto; }
${BENCH_STYLE}${DOCUMENT_STYLE}`;

/** Reloads the page while the run or list can still change, unless the reader is typing a decision. */
const REFRESH_SCRIPT = `
(function () {
  var every = Number(document.body.getAttribute('data-refresh-seconds')) * 1000;
  if (!every) return;
  function busy() {
    var fields = document.querySelectorAll('textarea, input[type=password]');
    for (var i = 0; i < fields.length; i++) if (fields[i].value || fields[i] === document.activeElement) return true;
    return false;
  }
  function tick() { if (busy()) setTimeout(tick, every); else location.reload(); }
  setTimeout(tick, every);
})();
`;

const sha256Source = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only the page's own inline style and script run; forms post back here only; no frame may embed it. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${sha256Source(STYLE)}`,
  `script-src ${sha256Source(REFRESH_SCRIPT)}`,
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The console's sections, in the page header. */
const NAV = '<nav class="site"><a href="/">Runs</a><a href="/benchmarks">Benchmarks</a><a href="/competitions">Competitions</a><a href="/envs">Environments</a></nav>';

export interface PageOptions {
  title: string;
  /** Already-escaped HTML. */
  body: string;
  /** Reload every N seconds while what the page shows can still change. */
  refreshSeconds?: number;
}

export function page({ title, body, refreshSeconds }: PageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Durable Lab</title>
<style>${STYLE}</style>
</head>
<body data-refresh-seconds="${refreshSeconds ?? 0}">
<header><h1><a href="/">Durable Lab</a></h1>${NAV}<span class="muted">runs, stages and gates, read from Temporal and the artifact store</span></header>
${body}
<script>${REFRESH_SCRIPT}</script>
</body>
</html>
`;
}

/** A one-line message box: what a decision did, or why it was refused. */
export function notice(kind: 'ok' | 'error', text: string): string {
  return `<p class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${escapeHtml(text)}</p>`;
}
