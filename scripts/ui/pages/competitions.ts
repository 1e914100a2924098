/**
 * The competition runs page (`/competitions`): each run's score on the hidden test split, what it
 * gained over the baseline, the share of the baseline-to-reference gap it closed (MLRC-Bench's
 * relative improvement; the scorer computes it), and scored / failed / invalid with the reason.
 */
import type { SubmissionScore } from '../../../common/competition.js';
import { escapeHtml, notice, page } from '../html.js';
import { listPager, shownTime, type PagedList } from './listPager.js';

export interface CompetitionRow {
  runId: string;
  task?: string;
  model?: string;
  benchmark?: string;
  started: Date;
  /** scored, failed or invalid once scored; running; or how the workflow ended otherwise. */
  status: string;
  score?: SubmissionScore;
  /** Why it failed or is invalid, or why the workflow did not finish. */
  reason?: string;
}

export interface CompetitionsInput {
  rows?: CompetitionRow[];
  list?: PagedList;
  benchmark?: string;
  error?: string;
  temporalLink: (workflowId: string) => string | undefined;
}

export function competitionsPage({ rows, list, benchmark, error, temporalLink }: CompetitionsInput): string {
  const body = [
    '<h2>Competition runs</h2>',
    benchmark ? `<p class="bench-filter">runs of benchmark <a href="/benchmarks/${encodeURIComponent(benchmark)}">${escapeHtml(benchmark)}</a> · <a href="/competitions">all</a></p>` : '',
    error ? notice('error', error) : '',
    rows ? table(rows, temporalLink) : '',
    rows
      ? '<p class="muted">gain: score minus the baseline\'s, so that more is better whichever way the metric goes. Gap closed: the share of the baseline-to-reference gap the run closed (100% reaches the reference); the reference stands in for the best human solution: a strong known method on shipped tasks, MLRC-Bench\'s published top human score on imported ones. A success closes at least 5%. Baseline and reference are scored on the run\'s own data draw.</p>'
      : '',
    list ? listPager(list, '/competitions', { benchmark }, ['run', 'runs']) : '',
  ];
  const running = rows?.some((r) => r.status === 'running');
  return page({ title: 'Competition runs', body: body.join('\n'), refreshSeconds: running && !error ? 15 : undefined });
}

/** Score minus baseline, signed so that a positive gain is better in the metric's direction. */
export function gainOverBaseline(s: SubmissionScore): number | undefined {
  if (s.score === undefined) return undefined;
  return s.metric.direction === 'higher' ? s.score - s.baseline : s.baseline - s.score;
}

function table(rows: CompetitionRow[], temporalLink: CompetitionsInput['temporalLink']): string {
  if (!rows.length) return '<p class="muted">no competition runs (lab compete, or lab bench --competition, starts them)</p>';
  const num = (x: number | undefined, digits: number, suffix = '') => (x === undefined ? '' : `${x.toFixed(digits)}${suffix}`);
  const body = rows.map((r) => {
    const s = r.score;
    const gain = s ? gainOverBaseline(s) : undefined;
    const link = temporalLink(r.runId);
    return `<tr data-run-id="${escapeHtml(r.runId)}">
<td><a href="/runs/${encodeURIComponent(r.runId)}">${escapeHtml(r.runId)}</a></td>
<td>${escapeHtml(r.task ?? '?')}</td>
<td>${escapeHtml(r.model ?? '?')}</td>
<td class="status">${escapeHtml(r.status)}</td>
<td>${s ? escapeHtml(`${s.metric.name} (${s.metric.direction} is better)`) : ''}</td>
<td class="num score">${num(s?.score, 4)}</td>
<td class="num">${num(s?.baseline, 4)}</td>
<td class="num">${num(s?.reference, 4)}</td>
<td class="num gain">${gain === undefined ? '' : `${gain >= 0 ? '+' : ''}${gain.toFixed(4)}`}</td>
<td class="num gap">${num(s?.relativeImprovement, 1, '%')}</td>
<td>${s ? (s.success ? 'yes' : 'no') : ''}</td>
<td class="reason">${escapeHtml(r.reason ?? '')}</td>
<td>${r.benchmark ? `<a href="/benchmarks/${encodeURIComponent(r.benchmark)}">${escapeHtml(r.benchmark)}</a>` : ''}</td>
<td>${escapeHtml(shownTime(r.started))}</td>
<td>${link ? `<a class="temporal" href="${escapeHtml(link)}">history</a>` : ''}</td>
</tr>`;
  });
  return `<div class="table-wrap"><table class="competitions">
<thead><tr><th>run</th><th>task</th><th>model</th><th>status</th><th>metric</th><th class="num">score</th><th class="num">baseline</th><th class="num">reference</th><th class="num">gain</th><th class="num">gap closed</th><th>success</th><th>reason</th><th>benchmark</th><th>started (UTC)</th><th>Temporal UI</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table></div>`;
}
