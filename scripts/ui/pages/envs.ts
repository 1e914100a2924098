/**
 * The environment sessions page (`/envs`): each Gym-style session (`lab env serve`) with where it
 * stands as its `session` query answers (GET /sessions/<id> gives the same): status, steps, reward,
 * and the submission's score on the hidden test split.
 */
import type { EnvSessionView, ScoreSummary } from '../../../common/envSession.js';
import { escapeHtml, notice, page } from '../html.js';
import { listPager, shownTime, type PagedList } from './listPager.js';

export interface EnvRow {
  sessionId: string;
  task?: string;
  started: Date;
  /** ready, preparing, done (submitted, max_steps, idle), failed; or how the workflow ended otherwise. */
  status: string;
  view?: EnvSessionView;
  /** Why the session failed, or why its state could not be read. */
  reason?: string;
}

export interface EnvsInput {
  rows?: EnvRow[];
  list?: PagedList;
  error?: string;
  temporalLink: (workflowId: string) => string | undefined;
}

export function envsPage({ rows, list, error, temporalLink }: EnvsInput): string {
  const body = [
    '<h2>Environment sessions</h2>',
    error ? notice('error', error) : '',
    rows ? table(rows, temporalLink) : '',
    rows ? '<p class="muted">score: the submission\'s on the hidden test split (gap closed: share of the baseline-to-reference gap); best dev: the best execute_code score on the dev split. Sessions are driven through lab env serve (docs/gym.md).</p>' : '',
    list ? listPager(list, '/envs', {}, ['session', 'sessions']) : '',
  ];
  const open = rows?.some((r) => r.view ? !r.view.done && r.view.status !== 'failed' : r.status === 'running');
  return page({ title: 'Environment sessions', body: body.join('\n'), refreshSeconds: open && !error ? 15 : undefined });
}

/** A session's status in words: its state, with why it ended. */
export function envStatus(view: EnvSessionView): string {
  return view.status === 'done' && view.endReason ? `done (${view.endReason})` : view.status;
}

function scoreText(s: ScoreSummary | undefined, metric: EnvSessionView['metric']): string {
  if (!s) return '';
  const value = s.score === undefined ? '' : ` ${metric?.name ?? 'score'} ${s.score.toFixed(4)}`;
  const gap = s.relativeImprovement === undefined ? '' : `, gap closed ${s.relativeImprovement.toFixed(1)}%`;
  return `${s.status}${value}${gap} (step ${s.step})${s.reason ? `: ${s.reason}` : ''}`;
}

function table(rows: EnvRow[], temporalLink: EnvsInput['temporalLink']): string {
  if (!rows.length) return '<p class="muted">no environment sessions (POST /reset on lab env serve starts one)</p>';
  const body = rows.map((r) => {
    const v = r.view;
    const link = temporalLink(r.sessionId);
    return `<tr data-session-id="${escapeHtml(r.sessionId)}">
<td>${escapeHtml(r.sessionId)}</td>
<td>${escapeHtml(r.task ?? v?.task ?? '?')}</td>
<td class="status">${escapeHtml(r.status)}</td>
<td class="num steps">${v ? `${v.step} / ${v.maxSteps}` : ''}</td>
<td class="num reward">${v ? v.totalReward.toFixed(4) : ''}</td>
<td class="final">${escapeHtml(scoreText(v?.final, v?.metric))}</td>
<td>${escapeHtml(scoreText(v?.bestDev, v?.metric))}</td>
<td class="reason">${escapeHtml(r.reason ?? v?.error ?? '')}</td>
<td>${escapeHtml(shownTime(r.started))}</td>
<td>${v ? escapeHtml(shownTime(v.updatedAt)) : ''}</td>
<td>${link ? `<a class="temporal" href="${escapeHtml(link)}">history</a>` : ''}</td>
</tr>`;
  });
  return `<div class="table-wrap"><table class="envs">
<thead><tr><th>session</th><th>task</th><th>status</th><th class="num">steps</th><th class="num">total reward</th><th>score (test)</th><th>best dev</th><th>reason</th><th>started (UTC)</th><th>last step (UTC)</th><th>Temporal UI</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table></div>`;
}
