/** The runs page (`/`): `lab list` as a table, with its filters as a form, newest first, paged. */
import { shorten } from '../../commands/list.js';
import { escapeHtml, notice, page, queryString } from '../html.js';
import { RUN_STATUSES, type RunFilters, type RunPage } from '../runList.js';

export interface RunsPageInput {
  filters: RunFilters;
  /** Raw filter values as typed, shown again in the form when they were refused. */
  typed: Record<string, string>;
  list?: RunPage;
  error?: string;
  /** The run in the Temporal UI, when its address is known. */
  temporalLink: (runId: string) => string | undefined;
}

export function runsPage({ filters, typed, list, error, temporalLink }: RunsPageInput): string {
  // The server gives back what was typed for status, task and model; the benchmark comes from the filters.
  const shown = { ...typed, benchmark: typed.benchmark ?? filters.benchmark ?? '' };
  const body = [
    '<h2>Runs</h2>',
    filters.benchmark ? `<p class="bench-filter">research runs of benchmark <a href="/benchmarks/${encodeURIComponent(filters.benchmark)}">${escapeHtml(filters.benchmark)}</a></p>` : '',
    filterForm(shown),
    error ? notice('error', error) : '',
    list ? runTable(list, temporalLink) : '',
    list ? pager(list, filters) : '',
  ].join('\n');
  return page({ title: 'Runs', body, refreshSeconds: error ? undefined : 15 });
}

function filterForm(typed: Record<string, string>): string {
  const options = ['', ...RUN_STATUSES]
    .map((s) => `<option value="${escapeHtml(s)}"${typed.status === s ? ' selected' : ''}>${s ? escapeHtml(s) : 'any status'}</option>`)
    .join('');
  const text = (name: string, label: string) =>
    `<label>${label} <input name="${name}" value="${escapeHtml(typed[name] ?? '')}" size="22"></label>`;
  return `<form class="filters" method="get" action="/">
<label>status <select name="status">${options}</select></label>
${text('task', 'task')}
${text('model', 'model')}
${text('benchmark', 'benchmark')}
<button type="submit">filter</button> <a href="/">clear</a>
</form>`;
}

function runTable(list: RunPage, temporalLink: (runId: string) => string | undefined): string {
  if (!list.rows.length) return '<p class="muted">no runs match</p>';
  const rows = list.rows.map((r) => {
    const link = temporalLink(r.runId);
    return `<tr data-run-id="${escapeHtml(r.runId)}">
<td><a href="/runs/${encodeURIComponent(r.runId)}">${escapeHtml(r.runId)}</a></td>
<td>${r.status === 'awaiting_review' ? '<strong>awaiting_review</strong>' : escapeHtml(r.status)}</td>
<td>${escapeHtml(r.task ?? '?')}</td>
<td title="${escapeHtml(r.model ?? '')}">${escapeHtml(shorten(r.model ?? '?', 48))}</td>
<td>${escapeHtml(r.started.replace('T', ' ').slice(0, 19))}</td>
<td>${link ? `<a class="temporal" href="${escapeHtml(link)}">history</a>` : ''}</td>
</tr>`;
  });
  return `<table class="runs">
<thead><tr><th>run</th><th>status</th><th>task</th><th>model</th><th>started (UTC)</th><th>Temporal UI</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function pager(list: RunPage, filters: RunFilters): string {
  const at = (p: number) => `/${queryString({ ...filters, page: p > 1 ? p : undefined })}`;
  const count = `${list.total}${list.truncated ? '+' : ''} run${list.total === 1 ? '' : 's'}, page ${list.page} of ${list.pages}`;
  const prev = list.page > 1 ? `<a rel="prev" href="${escapeHtml(at(list.page - 1))}">← newer</a>` : '';
  const next = list.page < list.pages ? `<a rel="next" href="${escapeHtml(at(list.page + 1))}">older →</a>` : '';
  return `<nav class="pages">${prev}<span class="muted">${count}</span>${next}</nav>`;
}
