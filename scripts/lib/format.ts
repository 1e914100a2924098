/** Text rendering of run state for the terminal. */
import path from 'node:path';
import type { ArtifactRef, RunProgress, StageChecks, StageProgress, Usage } from '../../common/schemas.js';
import { ZERO_USAGE } from '../../common/schemas.js';
import { STAGES } from '../../common/stages.js';
import type { ActiveStage, RunView, WorkerWait } from './runs.js';

/** Where a person opens an artifact: a file path or an `s3://` URL (the store's `locate`). */
export type LocateArtifact = (ref: ArtifactRef) => string;

const MARK: Record<StageProgress['status'], string> = {
  pending: '·',
  running: '▶',
  awaiting_review: '?',
  done: '✓',
  reused: '↺',
  failed: '✗',
  rejected: '✗',
  skipped: '-',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatUsage(u: Usage): string {
  const cost = u.costUsd > 0 ? `, $${u.costUsd.toFixed(4)}` : '';
  return `${u.llmCalls} call${u.llmCalls === 1 ? '' : 's'}, ${u.inputTokens}+${u.outputTokens} tokens${cost}`;
}

export function formatMs(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function duration(startIso?: string, endIso?: string, nowMs = Date.now()): string {
  if (!startIso) return '';
  return formatMs((endIso ? Date.parse(endIso) : nowMs) - Date.parse(startIso));
}

/** Time a stage spent working (all its runs), never the time its output waited at a gate. */
export function stageWorkMs(s: StageProgress, nowMs = Date.now()): number | undefined {
  const running = s.status === 'running' && s.runStartedAt ? nowMs - Date.parse(s.runStartedAt) : 0;
  if (s.workMs !== undefined) return s.workMs + running;
  if (s.status === 'running' && s.runStartedAt) return running;
  return undefined;
}

export function formatStageLine(s: StageProgress, locate?: LocateArtifact, active?: ActiveStage, nowMs = Date.now(), step?: RunView['experimentStep']): string {
  // A finished experiment that produced no results is not a success, whatever the run did next.
  const failedExperiment = s.checks?.experiment?.status === 'failed_experiment' && (s.status === 'done' || s.status === 'reused');
  const parts = [failedExperiment ? `✗ ${s.stage.padEnd(11)} ${'failed_experiment'.padEnd(17)}` : `${MARK[s.status]} ${s.stage.padEnd(11)} ${s.status.padEnd(17)}`];
  const workMs = stageWorkMs(s, nowMs);
  if (workMs !== undefined) parts.push(formatMs(workMs).padStart(6));
  if (s.status === 'running' && s.stage === 'experiment' && step) parts.push(`step ${step.step}/${step.maxSteps}${step.hostsLost ? ` (started over: ${step.hostsLost === 1 ? 'its sandbox host was' : `${step.hostsLost} sandbox hosts were`} lost)` : ''}`);
  if (s.status === 'running' && active) parts.push(formatActive(active));
  if (s.usage.llmCalls) parts.push(formatUsage(s.usage));
  if (s.runs > 1) parts.push(`${s.runs - 1} revision${s.runs > 2 ? 's' : ''}`);
  if (s.artifact && locate) parts.push(locate(s.artifact));
  const line = parts.filter(Boolean).join('  ');
  const checks = s.checks ? formatChecks(s.checks) : '';
  return checks ? `${line}\n      ${checks}` : line;
}

/** What a stage's integrity checks found, in one line: `citations: 14 verified, 1 flagged`. */
export function formatChecks(c: StageChecks): string {
  const parts: string[] = [];
  if (c.literature) {
    const offline = c.literature.backends.filter((b) => !b.ok).map((b) => b.name);
    parts.push(`literature: ${c.literature.retrieved} retrieved, ${c.literature.cited} kept${offline.length ? ` (unreachable: ${offline.join(', ')})` : ''}`);
  }
  if (c.experiment) {
    parts.push(
      c.experiment.status === 'succeeded'
        ? `experiment: results produced (${c.experiment.steps} steps, ${c.experiment.commands} commands)`
        : `no results: ${c.experiment.reason ?? c.experiment.end}`,
    );
  }
  if (c.citations) parts.push(`citations: ${c.citations.verified} verified, ${c.citations.flagged} flagged`);
  if (c.provenance?.status === 'error') parts.push(`provenance: could not run (${c.provenance.error ?? 'no reason recorded'}); no number was checked`);
  else if (c.provenance?.counts) {
    // Counts by verdict (the integrity check): result claims first, then settings; listed numbers last.
    const order = ['supported', 'weak', 'derived', 'unsupported', 'mismatch', 'typed', 'setting-recorded', 'setting-differs', 'setting-unrecorded', 'listed'];
    const counts = c.provenance.counts;
    const byVerdict = order.filter((v) => counts[v]).map((v) => `${counts[v]} ${v}`);
    parts.push(`provenance: ${plural(c.provenance.checked, 'result claim')} checked, ${c.provenance.unmatched} flagged (${byVerdict.join(', ')})`);
  } else if (c.provenance) {
    parts.push(`provenance: ${plural(c.provenance.checked, 'number')} checked, ${c.provenance.unmatched} not found in any result file`);
  }
  return parts.join('; ');
}

/** What the in-flight stage activity is doing: attempt, tokens so far, why the last attempt failed. */
export function formatActive(a: ActiveStage): string {
  const parts: string[] = [];
  if (a.waitingForWorker) parts.push('waiting for a worker');
  if (a.outputTokens) parts.push(`${a.outputTokens} tokens so far`);
  if (a.attempt > 1) parts.push(`attempt ${a.attempt}${a.lastFailure ? ` (last: ${a.lastFailure.slice(0, 120)})` : ''}`);
  return parts.join(', ');
}

/** A live view of a running run (the block `lab status --follow` redraws). */
export function formatProgress(runId: string, p: RunProgress, locate?: LocateArtifact, active?: ActiveStage): string {
  const lines = [
    `run ${runId}  task ${p.task}  model ${p.model}`,
    `status ${p.status}${p.currentStage ? ` (stage ${p.currentStage})` : ''}  elapsed ${duration(p.startedAt)}${p.resumedFrom ? `  resumed from ${p.resumedFrom}` : ''}`,
    ...p.stages.map((s) => '  ' + formatStageLine(s, locate, active)),
    ...workerWaitLines(active),
    ...preflightLines(p),
    ...totalLines(p.totals, p.lineageTotals, p),
    ...gateLines(runId, p, locate),
  ];
  return lines.join('\n');
}

/** The run's status in one word: Durable Lab's own while it runs or when it completed, else Temporal's. */
export function displayStatus(view: RunView): string {
  if (view.execution === 'RUNNING') return view.progress?.status ?? view.status;
  if (view.execution === 'COMPLETED') return view.result?.status ?? view.status;
  return view.execution.toLowerCase();
}

/**
 * Everything known about a run, printed once: from the live progress when a worker answers,
 * else from what the server keeps without one (memo, search attributes, result).
 */
export function formatRun(view: RunView, locate: LocateArtifact, nowMs = Date.now()): string {
  const p = view.progress;
  const status = displayStatus(view);
  const stage = p?.currentStage ?? (view.execution === 'RUNNING' ? view.stage : undefined);
  const time = view.closeTime
    ? `took ${formatMs(view.closeTime.getTime() - view.startTime.getTime())}`
    : `elapsed ${formatMs(nowMs - view.startTime.getTime())}`;
  const resumedFrom = p?.resumedFrom ?? view.memo.resumedFrom;
  const lines = [
    `run ${view.runId}  task ${view.task ?? p?.task ?? '?'}  model ${view.model ?? p?.model ?? '?'}`,
    `status ${status}${stage ? ` (stage ${stage})` : ''}${endedEarly(view) ? ` ${endedEarly(view)}` : ''}  ${time}${resumedFrom ? `  resumed from ${resumedFrom}` : ''}`,
  ];
  if (view.failure) lines.push(`failure: ${view.failure}`);
  if (view.result?.reason) lines.push(`reason: ${view.result.reason}`);
  if (!p && view.execution === 'RUNNING') lines.push('(no worker answered; stages below are those the run has recorded; start one with `lab worker`)');
  const stages = p ? asClosed(p.stages, view.execution) : stagesFromMemo(view);
  lines.push(...stages.map((s) => '  ' + formatStageLine(s, locate, view.activeStage, nowMs, view.experimentStep)));
  if (view.execution === 'RUNNING') lines.push(...workerWaitLines(view.activeStage, nowMs));
  if (p) lines.push(...preflightLines(p));
  const totals = p?.totals ?? view.result?.totals ?? view.memo.spent;
  if (totals) lines.push(...totalLines(totals, p?.lineageTotals, p));
  if (p) lines.push(...gateLines(view.runId, p, locate));
  return lines.join('\n');
}

/**
 * A run that was terminated, cancelled or timed out could not update its own progress: a stage it
 * was in is shown as stopped (failed), the ones after it as skipped.
 */
export function asClosed(stages: StageProgress[], execution: string): StageProgress[] {
  if (execution === 'RUNNING' || execution === 'COMPLETED') return stages;
  return stages.map((s) =>
    s.status === 'running' || s.status === 'awaiting_review' ? { ...s, status: 'failed' } : s.status === 'pending' ? { ...s, status: 'skipped' } : s,
  );
}

/** Stage rows from the run's memo (finished stages) and its last stage search attribute. */
export function stagesFromMemo(view: RunView): StageProgress[] {
  return STAGES.map((stage): StageProgress => {
    const done = view.memo.completed[stage];
    if (done) return { stage, status: 'done', runs: 1, usage: done.usage, artifact: done.artifact, model: done.model };
    if (stage === view.stage && view.execution !== 'COMPLETED') {
      // The run's search attributes say when its current stage waits at its gate.
      const open = view.status === 'awaiting_review' ? 'awaiting_review' : 'running';
      return { stage, status: view.execution === 'RUNNING' ? open : 'failed', runs: 0, usage: ZERO_USAGE };
    }
    return { stage, status: view.execution === 'RUNNING' ? 'pending' : 'skipped', runs: 0, usage: ZERO_USAGE };
  });
}

/**
 * Preflight problems (they stop the run). Its warnings are shown once, when `lab run` starts the
 * run, not again on every status and show.
 */
function preflightLines(p: RunProgress): string[] {
  if (!p.preflight) return [];
  return p.preflight.problems.map((x) => `preflight problem: ${x}`);
}

/** How a completed run that stopped early ended: `at the idea gate (no paper was written)`. */
export function endedEarly(view: RunView): string {
  const r = view.result;
  if (view.execution !== 'COMPLETED' || !r || r.status === 'completed') return '';
  const where = r.stoppedAt ? (r.status === 'rejected' ? ` at the ${r.stoppedAt} gate` : ` at ${r.stoppedAt}`) : '';
  return `${where}${r.artifacts.paper ? '' : ' (no paper was written)'}`.trim();
}

/** Why a paper is missing, for `lab show`. */
export function noPaperLine(view: RunView): string {
  const r = view.result;
  if (r?.status === 'rejected') return `(no paper was written: the run was rejected${r.stoppedAt ? ` at the ${r.stoppedAt} gate` : ''})`;
  if (r?.status === 'budget_exhausted') return `(no paper was written: the run ran out of budget${r.stoppedAt ? ` at ${r.stoppedAt}` : ''})`;
  if (view.execution === 'RUNNING') return '(no paper yet)';
  const stage = view.stopped?.stage ?? view.stage;
  return `(no paper was written: the run ${view.stopped?.how ?? view.execution.toLowerCase()}${stage ? ` at ${stage}` : ''})`;
}

const clock = (iso: string) => new Date(iso).toISOString().slice(11, 19) + 'Z';

/** An activity whose worker is gone: say the run waits for a worker, and when it is retried. */
export function workerWaitLines(active: ActiveStage | undefined, nowMs = Date.now()): string[] {
  const w: WorkerWait | undefined = active?.waitingForWorker;
  if (!w) return [];
  const since = w.lastHeard ? ` (no heartbeat from ${w.activity} since ${clock(w.lastHeard)}, ${formatMs(nowMs - Date.parse(w.lastHeard))} ago)` : '';
  const when = w.timesOutAt
    ? `its attempt ${active!.attempt} times out at ${clock(w.timesOutAt)} and is retried then`
    : w.retryAt
      ? `attempt ${active!.attempt} is retried at ${clock(w.retryAt)}`
      : `attempt ${active!.attempt} is retried as soon as a worker picks it up`;
  return [`waiting for a worker: its worker stopped answering${since}; ${when}; is \`lab worker\` running?`];
}

function totalLines(totals: Usage, lineage: Usage | undefined, p: RunProgress | undefined): string[] {
  const lines = [`total: ${formatUsage(totals)}${p ? formatBudget(p) : ''}`];
  if (lineage) lines.push(`lineage total (with the runs it resumes): ${formatUsage(lineage)}`);
  return lines;
}

function gateLines(runId: string, p: RunProgress, locate?: LocateArtifact): string[] {
  const g = p.pendingGate;
  if (!g) return [];
  return [
    `waiting for review of ${g.stage} (since ${g.since}${g.decidesAt ? `; ${g.onTimeout} at ${g.decidesAt}` : ''}; ${g.revisionsUsed}/${g.maxRevisions} revisions used)`,
    `  read it:   ${locate ? locate(g.artifact) : g.artifact.path}`,
    `  decide:    ${decisionCommands(runId, g.stage, g.revisionsUsed)}`,
  ];
}

/** The options that name one gate on approve/revise/reject (revision 0, the first version, needs none). */
export function gateFlags(stage: string, revision: number): string {
  return `--stage ${stage}${revision ? ` --revision ${revision}` : ''}`;
}

/** The three decisions for one gate, each naming it (a decision that names no gate could land on a later one). */
export function decisionCommands(runId: string, stage: string, revision: number): string {
  const gate = gateFlags(stage, revision);
  return `lab approve ${runId} ${gate} | lab revise ${runId} ${gate} --feedback "..." | lab reject ${runId} ${gate}`;
}

function formatBudget(p: RunProgress): string {
  const parts: string[] = [];
  if (p.budget.usd !== undefined) parts.push(`$${p.totals.costUsd.toFixed(4)} of $${p.budget.usd}`);
  if (p.budget.tokens !== undefined) parts.push(`${p.totals.inputTokens + p.totals.outputTokens} of ${p.budget.tokens} tokens`);
  return parts.length ? `  (budget: ${parts.join(', ')})` : '';
}
