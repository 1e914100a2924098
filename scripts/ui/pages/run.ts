/**
 * The run page (`/runs/<id>`): what `lab status` prints (stages with status, working time, LLM
 * calls, tokens, cost, checks; totals; pending gate) as HTML, the gate's decision form, each
 * stage's document rendered with its flagged numbers and citations marked (documentSection.ts),
 * and the result CSVs as tables.
 */
import { ZERO_USAGE, type StageProgress } from '../../../common/schemas.js';
import { asClosed, decisionCommands, displayStatus, endedEarly, formatActive, formatChecks, formatMs, formatUsage, stageWorkMs, stagesFromMemo, workerWaitLines } from '../../lib/format.js';
import type { RunView } from '../../lib/runs.js';
import { documentSection, resultTablesSection } from '../documentSection.js';
import { escapeHtml, notice, page } from '../html.js';
import type { RunDetails, StageDocument } from '../runDetails.js';

export interface RunPageInput {
  details: RunDetails;
  /** The run in the Temporal UI, when its address is known. */
  temporalLink?: string;
  decisions: { allowed: boolean; tokenRemembered: boolean };
  /** What the last decision did, or why it (or the request) was refused. */
  message?: { kind: 'ok' | 'error'; text: string };
  /** Feedback typed into a refused decision, given back so it is not lost. */
  feedback?: string;
  nowMs?: number;
}

export function runPage(input: RunPageInput): string {
  const { view, documents } = input.details;
  const nowMs = input.nowMs ?? Date.now();
  const body = [
    `<h2>Run <code>${escapeHtml(view.runId)}</code></h2>`,
    input.message ? notice(input.message.kind, input.message.text) : '',
    summary(view, input.temporalLink, nowMs),
    stageTable(view, nowMs),
    gateBox(input, documents.find((d) => d.atGate)),
    decisionsSection(input.details),
    experimentSection(input.details),
    integrity(input.details),
    ...documents.filter((d) => !d.atGate).map((d) => documentSection(d, input.details)),
    resultTablesSection(input.details),
  ].join('\n');
  // An open run changes by itself (and a gate can be decided elsewhere): reload while it is open. Not an
  // answer to a refused decision (a POST): reloading it would post again, and the message would go.
  const refresh = view.execution === 'RUNNING' && input.message?.kind !== 'error';
  return page({ title: view.runId, body, refreshSeconds: refresh ? 10 : undefined });
}

function summary(view: RunView, temporalLink: string | undefined, nowMs: number): string {
  const p = view.progress;
  const stage = p?.currentStage ?? (view.execution === 'RUNNING' ? view.stage : undefined);
  const stopped = view.stopped;
  const status = `${stopped?.how ?? displayStatus(view)}${stage ? ` (stage ${stage})` : stopped?.stage ? ` (stage ${stopped.stage})` : ''}${endedEarly(view) ? ` ${endedEarly(view)}` : ''}`;
  const time = view.closeTime ? `took ${formatMs(view.closeTime.getTime() - view.startTime.getTime())}` : `elapsed ${formatMs(nowMs - view.startTime.getTime())}`;
  const totals = p?.totals ?? view.result?.totals ?? view.memo.spent;
  const resumedFrom = p?.resumedFrom ?? view.memo.resumedFrom;
  const rows: Array<[string, string]> = [
    ['status', `<strong class="run-status">${escapeHtml(status)}</strong>`],
    ['task', escapeHtml(view.task ?? p?.task ?? '?')],
    ['model', escapeHtml(view.model ?? p?.model ?? '?')],
    ['started', `${escapeHtml(view.startTime.toISOString().replace('T', ' ').slice(0, 19))} UTC, ${escapeHtml(time)}`],
  ];
  if (resumedFrom) rows.push(['resumed from', `<a href="/runs/${encodeURIComponent(resumedFrom)}">${escapeHtml(resumedFrom)}</a>`]);
  if (totals) rows.push(['total', escapeHtml(formatUsage(totals))]);
  if (p?.lineageTotals) rows.push(['lineage total', escapeHtml(formatUsage(p.lineageTotals))]);
  if (view.failure) rows.push(['failure', escapeHtml(view.failure)]);
  if (view.result?.reason) rows.push(['reason', escapeHtml(view.result.reason)]);
  for (const problem of p?.preflight?.problems ?? []) rows.push(['preflight problem', escapeHtml(problem)]);
  if (temporalLink) rows.push(['history', `<a class="temporal" href="${escapeHtml(temporalLink)}">this run in the Temporal UI</a>`]);
  const notes = [
    ...(!p && view.execution === 'RUNNING' ? ['no worker answered; the stages below are those the run has recorded; start one with `lab worker`'] : []),
    ...(view.execution === 'RUNNING' ? workerWaitLines(view.activeStage, nowMs) : []),
  ];
  return `<table class="summary">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>
${notes.map((n) => `<p class="muted">${escapeHtml(n)}</p>`).join('\n')}`;
}

/**
 * Stage rows as `lab status` shows them: live progress when a worker answered (a run closed from
 * outside shows the stage it was in as stopped, later ones skipped), else the run's memo.
 */
function stageRows(view: RunView): StageProgress[] {
  return view.progress ? asClosed(view.progress.stages, view.execution) : stagesFromMemo(view);
}

function stageStatus(s: StageProgress, view: RunView): string {
  if (s.checks?.experiment?.status === 'failed_experiment' && (s.status === 'done' || s.status === 'reused')) return 'failed_experiment';
  if (view.stopped && s.stage === view.stopped.stage && s.status === 'failed') return view.stopped.how;
  return s.status;
}

function stageTable(view: RunView, nowMs: number): string {
  const rows = stageRows(view).map((s) => {
    const u = s.usage ?? ZERO_USAGE;
    const workMs = stageWorkMs(s, nowMs);
    const activity = s.status === 'running' && view.activeStage ? formatActive(view.activeStage) : '';
    const step = s.status === 'running' && s.stage === 'experiment' && view.experimentStep ? `step ${view.experimentStep.step}/${view.experimentStep.maxSteps}` : '';
    const checks = s.checks ? formatChecks(s.checks) : '';
    const notes = [step, activity, s.runs > 1 ? `${s.runs - 1} revision${s.runs > 2 ? 's' : ''}` : '', checks].filter(Boolean).join('; ');
    return `<tr data-stage="${escapeHtml(s.stage)}">
<td>${escapeHtml(s.stage)}</td><td class="stage-status">${escapeHtml(stageStatus(s, view))}</td>
<td class="num">${workMs !== undefined ? escapeHtml(formatMs(workMs)) : ''}</td>
<td class="num">${u.llmCalls || ''}</td>
<td class="num">${u.llmCalls ? `${u.inputTokens}+${u.outputTokens}` : ''}</td>
<td class="num">${u.costUsd > 0 ? `$${u.costUsd.toFixed(4)}` : ''}</td>
<td>${escapeHtml(notes)}</td>
</tr>`;
  });
  return `<h3>Stages</h3>
<table class="stages">
<thead><tr><th>stage</th><th>status</th><th class="num">time</th><th class="num">calls</th><th class="num">tokens (in+out)</th><th class="num">cost</th><th>notes</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** The open gate: its document, and approve / revise / reject naming the gate (stage and revision) shown. */
function gateBox(input: RunPageInput, doc: StageDocument | undefined): string {
  const { view } = input.details;
  const g = view.progress?.pendingGate;
  if (!g && !view.progress && view.execution === 'RUNNING' && view.status === 'awaiting_review') {
    // The run says it waits at a gate, but which version only a worker can tell.
    return `<section class="gate"><h3>Waiting for review${view.stage ? `: ${escapeHtml(view.stage)}` : ''}</h3>
<p>no worker answered, so the version waiting cannot be shown or decided here; start <code>lab worker</code> and reload.</p></section>`;
  }
  if (!g || view.execution !== 'RUNNING') return '';
  const timeout = g.decidesAt ? `; ${g.onTimeout} at ${g.decidesAt}` : '';
  const heading = `<h3>Waiting for review: ${escapeHtml(g.stage)}${g.revisionsUsed ? `, revision ${g.revisionsUsed}` : ''}</h3>
<p class="muted">since ${escapeHtml(g.since)}${escapeHtml(timeout)}; ${g.revisionsUsed}/${g.maxRevisions} revisions used</p>`;
  const form = input.decisions.allowed
    ? `<form method="post" action="/runs/${encodeURIComponent(view.runId)}/decide" class="decide">
<input type="hidden" name="stage" value="${escapeHtml(g.stage)}">
<input type="hidden" name="revision" value="${escapeHtml(g.revisionsUsed)}">
<label>feedback (needed to revise; kept with approve or reject)<textarea name="feedback">${escapeHtml(input.feedback ?? '')}</textarea></label>
${input.decisions.tokenRemembered ? '' : '<label>token (printed by lab ui at start) <input type="password" name="token" autocomplete="off"></label>'}
<button type="submit" name="action" value="approve">approve</button>
<button type="submit" name="action" value="revise">revise</button>
<button type="submit" name="action" value="reject">reject</button>
</form>`
    : `<p>read-only console: decide with <code>${escapeHtml(decisionCommands(view.runId, g.stage, g.revisionsUsed))}</code>, or start <code>lab ui --allow-decisions</code>.</p>`;
  return `<section class="gate">
${heading}
${form}
${doc ? documentSection(doc, input.details) : ''}
</section>`;
}

/** The experiment's finished steps: action, command, exit code, duration, the end of its output. */
function experimentSection({ experiment }: RunDetails): string {
  if (experiment.state === 'none') return '';
  if (experiment.state === 'unreadable') return `<h3>Experiment steps</h3><p>the experiment's transcript could not be read: ${escapeHtml(experiment.error)}</p>`;
  const items = experiment.steps.map((st) => {
    const duration = st.durationMs !== undefined ? escapeHtml(formatMs(st.durationMs)) : '';
    const exit = st.killedBy ? `killed (${escapeHtml(st.killedBy)})` : st.exitCode !== undefined ? `exit ${st.exitCode}` : st.ok ? 'ok' : 'failed';
    const files = st.filesChanged.length ? `<p class="muted">files: ${escapeHtml(st.filesChanged.join(', '))}</p>` : '';
    const output = st.excerpt ? `<details><summary>output${st.truncated ? ' (its end)' : ''}</summary><pre class="step-output">${escapeHtml(st.excerpt)}</pre></details>` : '';
    return `<li class="step ${st.ok ? 'ok' : 'failed'}" data-step="${st.step}">
<span class="step-no">${st.step}</span> <span class="step-action">${escapeHtml(st.action)}</span>
${st.command !== undefined ? `<code class="step-command">${escapeHtml(st.command.length > 300 ? `${st.command.slice(0, 300)}…` : st.command)}</code>` : `<span>${escapeHtml(st.what)}</span>`}
<span class="step-exit">${exit}</span> <span class="step-duration">${duration}</span>
${st.thought ? `<p class="muted step-thought">${escapeHtml(st.thought.length > 400 ? `${st.thought.slice(0, 400)}…` : st.thought)}</p>` : ''}${files}${output}</li>`;
  });
  const runs = experiment.steps.filter((st) => st.action === 'run');
  const failed = runs.filter((st) => !st.ok).length;
  return `<h3>Experiment steps</h3>
<p class="muted">${experiment.steps.length} step${experiment.steps.length === 1 ? '' : 's'}, ${runs.length} command${runs.length === 1 ? '' : 's'} run in the sandbox, ${failed} failed${experiment.more ? `; ${experiment.more} later steps not shown (experiment/transcript.jsonl has them)` : ''}</p>
<ol class="timeline">${items.join('\n')}</ol>`;
}

/** Who decided at each gate and when, newest last, as the run's history records it. */
function decisionsSection({ decisions }: RunDetails): string {
  if (decisions === undefined) return '<h3>Decisions</h3><p class="muted">the run\'s history could not be read</p>';
  if (!decisions.length) return '';
  const rows = decisions.map(
    (d) => `<tr class="decision"><td>${escapeHtml(d.at.toISOString().replace('T', ' ').slice(0, 19))} UTC</td><td>${escapeHtml(d.stage ?? '?')}${d.revision !== undefined ? `, revision ${d.revision}` : ''}</td><td class="action">${escapeHtml(d.action)}</td><td class="by">${d.by ? escapeHtml(d.by) : '<span class="muted">not recorded</span>'}</td><td>${escapeHtml(d.feedback ?? '')}</td></tr>`,
  );
  return `<h3>Decisions</h3>
<table class="decisions"><thead><tr><th>when</th><th>gate</th><th>decision</th><th>by</th><th>feedback</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function integrity({ provenance }: RunDetails): string {
  if (provenance.state === 'none') return '';
  if (provenance.state === 'unreadable') return `<h3>Integrity check</h3><p>provenance.json could not be read: ${escapeHtml(provenance.error)}</p>`;
  if (provenance.state === 'error') return `<h3>Integrity check</h3><p>the check could not run (${escapeHtml(provenance.error)}); no number was checked</p>`;
  const rows = provenance.flagged.map(
    (f) => `<tr><td>${escapeHtml(f.document)}:${f.line}</td><td><mark title="${escapeHtml(f.reason)}">${escapeHtml(f.text)}</mark></td><td>${escapeHtml(f.reason)}</td></tr>`,
  );
  return `<h3>Integrity check</h3>
<p>${provenance.checked} number${provenance.checked === 1 ? '' : 's'} examined, ${provenance.results} result claim${provenance.results === 1 ? '' : 's'}, ${provenance.flagged.length} flagged${provenance.flagged.length ? ' (marked in the documents below)' : ''}</p>
${rows.length ? `<table class="flagged"><thead><tr><th>where</th><th>number</th><th>why</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : ''}`;
}
