/**
 * The benchmark page (`/benchmarks/<id>`): what `lab bench status` prints (items done, failed,
 * skipped, running, at a gate; spent; time left), the failed items with their reasons and runs,
 * the retry `lab bench retry` does (all failed items, or one), and once the benchmark has closed,
 * the leaderboard `lab report` prints, with its charts.
 */
import type { BenchFailure } from '../../../common/benchmark.js';
import { benchReportState, itemRunIdOf, timeLeft, type BenchView } from '../../lib/bench.js';
import { formatMs } from '../../lib/format.js';
import type { BenchDetails } from '../benchDetails.js';
import { escapeHtml, notice, page } from '../html.js';
import { shownTime } from './listPager.js';
import { leaderboard } from './benchReport.js';

export interface BenchPageInput {
  details: BenchDetails;
  temporalLink: (workflowId: string) => string | undefined;
  decisions: { allowed: boolean; tokenRemembered: boolean };
  /** What the last retry did, or why it was refused. */
  message?: { kind: 'ok' | 'error'; text: string };
  nowMs?: number;
}

export function benchPage(input: BenchPageInput): string {
  const { view } = input.details;
  const nowMs = input.nowMs ?? Date.now();
  const id = view.benchId;
  const body = [
    `<h2>Benchmark <code>${escapeHtml(id)}</code></h2>`,
    input.message ? notice(input.message.kind, input.message.text) : '',
    summary(view, input.temporalLink(id), nowMs),
    failures(view, input),
    retryBox(view, input),
    view.execution === 'RUNNING'
      ? `<p class="muted">The leaderboard appears here once the benchmark has finished (<code>lab report ${escapeHtml(id)}</code> gives a partial one now).</p>`
      : input.details.report
        ? leaderboard(id, input.details.report)
        : notice('error', `the leaderboard could not be built: ${input.details.reportError ?? 'unknown error'}`),
  ].join('\n');
  // A running benchmark moves by itself; not after a refused retry (reloading would lose the message).
  const refresh = view.execution === 'RUNNING' && input.message?.kind !== 'error';
  return page({ title: id, body, refreshSeconds: refresh ? 10 : undefined });
}

/** Finished, failed, skipped and running items, as `lab bench status` counts them. */
function summary(view: BenchView, temporal: string | undefined, nowMs: number): string {
  const id = view.benchId;
  // A benchmark whose every item failed has not completed in any sense a reader cares about (as lab bench status says).
  const state = benchReportState(view);
  const status = view.execution === 'COMPLETED' ? state.state : view.execution.toLowerCase();
  const counts = view.result ?? view.progress;
  const rows: Array<[string, string]> = [['status', `<strong class="bench-status">${escapeHtml(status)}</strong> <span class="muted">${escapeHtml(state.note)}</span>`]];
  if (counts && counts.total > 0) {
    const finished = counts.done + counts.failed + counts.skipped;
    const running = view.progress ? `, <span class="bench-running">${view.progress.running}</span> running` : '';
    const gate = view.atGate ? `, <span class="bench-gate">${view.atGate}</span> at a gate` : '';
    rows.push([
      'items',
      `<progress class="bench" value="${finished}" max="${counts.total}"></progress> <span class="bench-items"><span class="bench-finished">${finished}</span> of <span class="bench-total">${counts.total}</span> finished: <span class="bench-done">${counts.done}</span> done, <span class="bench-failed">${counts.failed}</span> failed, <span class="bench-skipped">${counts.skipped}</span> skipped${running}${gate}</span>`,
    ]);
    const s = counts.spent;
    rows.push(['spent', escapeHtml(`$${s.costUsd.toFixed(4)}, ${s.inputTokens + s.outputTokens} tokens in ${s.llmCalls} LLM calls (finished items)`)]);
    if (view.progress) rows.push(['time left', `<span class="bench-left">${escapeHtml(timeLeft(view.progress.startedAt, finished, counts.total, nowMs))}</span> <span class="muted">at the pace so far</span>`]);
  } else if (view.execution === 'RUNNING') {
    rows.push(['items', 'the task set is being resolved']);
  }
  const started = view.progress?.startedAt ? new Date(view.progress.startedAt) : view.startTime;
  const time = view.closeTime ? `took ${formatMs(view.closeTime.getTime() - view.startTime.getTime())}` : `elapsed ${formatMs(nowMs - started.getTime())}`;
  rows.push(['started', `${escapeHtml(shownTime(started))} UTC, ${escapeHtml(time)}`]);
  if (view.failure) rows.push(['failure', `<span class="bench-failure">${escapeHtml(view.failure)}</span>`]);
  const links = [
    `<a class="bench-runs" href="/?benchmark=${encodeURIComponent(id)}">its research runs</a>`,
    `<a class="bench-competitions" href="/competitions?benchmark=${encodeURIComponent(id)}">its competition runs</a>`,
    temporal ? `<a class="temporal" href="${escapeHtml(temporal)}">Temporal UI</a>` : '',
  ];
  rows.push(['see', links.filter(Boolean).join(' · ')]);
  rows.push(['CLI', `<code>lab bench status ${escapeHtml(id)}</code> · <code>lab report ${escapeHtml(id)}</code>`]);
  const table = rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('\n');
  return `<table class="summary bench-summary">\n${table}\n</table>`;
}

/** Whether `lab bench retry` would take this benchmark: closed, and not with every item done. */
function retryable(view: BenchView): boolean {
  return view.execution !== 'RUNNING' && (!view.result || view.result.failed > 0);
}

function failures(view: BenchView, input: BenchPageInput): string {
  const listed = (view.result ?? view.progress)?.failures ?? [];
  if (!listed.length) return '';
  const perItem = retryable(view) && input.decisions.allowed;
  const retried = new Set<string>();
  const rows = listed.map((f) => {
    // One button per item, on its first listed failure (an item may fail in its run and a review).
    const button = perItem && !retried.has(f.key) ? `<button type="submit" form="retry-form" name="item" value="${escapeHtml(f.key)}">retry this item</button>` : '';
    retried.add(f.key);
    return failureRow(view.benchId, f, input.temporalLink, button);
  });
  const total = (view.result ?? view.progress)!.failed;
  const more = total > listed.length ? `<p class="muted">the latest ${listed.length} failures are listed; the Temporal UI has every failed workflow</p>` : '';
  return `<h3>Failed items</h3>
<table class="failures">
<thead><tr><th>item</th><th>part</th><th>reason</th><th>run</th><th>Temporal UI</th><th></th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>${more}`;
}

function failureRow(benchId: string, f: BenchFailure, temporalLink: BenchPageInput['temporalLink'], button: string): string {
  // An item that failed before its run started failed in the benchmark itself: there is no run page.
  const runId = f.workflowId === benchId ? undefined : itemRunIdOf(f.workflowId);
  const temporal = temporalLink(f.workflowId);
  return `<tr data-item="${escapeHtml(f.key)}">
<td>${escapeHtml(f.task)} / ${escapeHtml(f.agent)}</td>
<td>${escapeHtml(f.part)}</td>
<td class="reason">${escapeHtml(f.reason)}</td>
<td>${runId ? `<a class="run" href="/runs/${encodeURIComponent(runId)}">${escapeHtml(runId)}</a>` : ''}</td>
<td>${temporal ? `<a class="temporal" href="${escapeHtml(temporal)}">${escapeHtml(f.workflowId)}</a>` : ''}</td>
<td>${button}</td>
</tr>`;
}

/** The retry form (per-item buttons above post it too), or the CLI command on a read-only console. */
function retryBox(view: BenchView, input: BenchPageInput): string {
  const id = view.benchId;
  if (view.execution === 'RUNNING') {
    return view.progress?.failed ? `<p class="muted">Failed items can be retried once the benchmark has finished (<code>lab bench retry ${escapeHtml(id)}</code>).</p>` : '';
  }
  if (!retryable(view)) return '';
  const command = `lab bench retry ${id}  (or --item <task>/<agent>)`;
  if (!input.decisions.allowed) {
    return `<div class="retry-box"><p>Run the failed items again (finished ones are kept): <code class="retry-command">${escapeHtml(command)}</code></p><p class="muted">This console is read-only (lab ui --allow-decisions lets it retry).</p></div>`;
  }
  const token = input.decisions.tokenRemembered ? '' : '<label>token <input type="password" name="token" autocomplete="off" size="24"></label> ';
  return `<div class="retry-box"><form id="retry-form" class="retry" method="post" action="/benchmarks/${encodeURIComponent(id)}/retry">
<p>Run the failed items again, as <code>${escapeHtml(command)}</code> does; finished items are kept.</p>
${token}<button type="submit" class="retry-all">retry failed items</button>
</form></div>`;
}
