/** Text rendering of run state for the terminal. */
import path from 'node:path';
import type { RunProgress, StageProgress, Usage } from '../../common/schemas.js';
import type { ActiveStage, RunView } from './runs.js';

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

export function formatUsage(u: Usage): string {
  const cost = u.costUsd > 0 ? `, $${u.costUsd.toFixed(4)}` : '';
  return `${u.llmCalls} call${u.llmCalls === 1 ? '' : 's'}, ${u.inputTokens}+${u.outputTokens} tokens${cost}`;
}

export function duration(startIso?: string, endIso?: string, nowMs = Date.now()): string {
  if (!startIso) return '';
  const ms = (endIso ? Date.parse(endIso) : nowMs) - Date.parse(startIso);
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function formatStageLine(s: StageProgress, artifactRoot?: string, active?: ActiveStage): string {
  const parts = [`${MARK[s.status]} ${s.stage.padEnd(11)} ${s.status.padEnd(15)}`];
  const took = duration(s.startedAt, s.status === 'running' ? undefined : s.finishedAt);
  if (took) parts.push(took.padStart(6));
  if (s.status === 'running' && active) parts.push(formatActive(active));
  if (s.usage.llmCalls) parts.push(formatUsage(s.usage));
  if (s.runs > 1) parts.push(`${s.runs - 1} revision${s.runs > 2 ? 's' : ''}`);
  if (s.artifact && artifactRoot) parts.push(path.join(artifactRoot, s.artifact.path));
  return parts.join('  ');
}

/** What the in-flight stage activity is doing: attempt, tokens so far, why the last attempt failed. */
export function formatActive(a: ActiveStage): string {
  const parts: string[] = [];
  if (a.outputTokens) parts.push(`${a.outputTokens} tokens so far`);
  if (a.attempt > 1) parts.push(`attempt ${a.attempt}${a.lastFailure ? ` (last: ${a.lastFailure.slice(0, 120)})` : ''}`);
  return parts.join(', ');
}

export function formatProgress(runId: string, p: RunProgress, artifactRoot?: string, active?: ActiveStage): string {
  const lines = [
    `run ${runId}  task ${p.task}  model ${p.model}`,
    `status ${p.status}${p.currentStage ? ` (stage ${p.currentStage})` : ''}  elapsed ${duration(p.startedAt)}${p.resumedFrom ? `  resumed from ${p.resumedFrom}` : ''}`,
    ...p.stages.map((s) => '  ' + formatStageLine(s, artifactRoot, active)),
    `total: ${formatUsage(p.totals)}${formatBudget(p)}`,
  ];
  if (p.pendingGate) {
    const g = p.pendingGate;
    lines.push(
      `waiting for review of ${g.stage} (since ${g.since}${g.decidesAt ? `; ${g.onTimeout} at ${g.decidesAt}` : ''}; ${g.revisionsUsed}/${g.maxRevisions} revisions used)`,
      `  read it:   ${artifactRoot ? path.join(artifactRoot, g.artifact.path) : g.artifact.path}`,
      `  decide:    lab approve ${runId} | lab revise ${runId} --feedback "..." | lab reject ${runId}`,
    );
  }
  return lines.join('\n');
}

function formatBudget(p: RunProgress): string {
  const parts: string[] = [];
  if (p.budget.usd !== undefined) parts.push(`$${p.totals.costUsd.toFixed(4)} of $${p.budget.usd}`);
  if (p.budget.tokens !== undefined) parts.push(`${p.totals.inputTokens + p.totals.outputTokens} of ${p.budget.tokens} tokens`);
  return parts.length ? `  (budget: ${parts.join(', ')})` : '';
}

export function formatClosedRun(view: RunView, artifactRoot: string): string {
  const lines = [`run ${view.runId}  task ${view.task ?? '?'}  model ${view.model ?? '?'}`, `status ${view.status} (${view.execution.toLowerCase()})`];
  if (view.failure) lines.push(`failure: ${view.failure}`);
  if (view.result?.reason) lines.push(`reason: ${view.result.reason}`);
  const artifacts = view.result?.artifacts ?? Object.fromEntries(Object.entries(view.memo.completed).map(([k, v]) => [k, v!.artifact]));
  for (const [stage, ref] of Object.entries(artifacts)) lines.push(`  ${stage.padEnd(11)} ${path.join(artifactRoot, ref!.path)}`);
  if (view.result) lines.push(`total: ${formatUsage(view.result.totals)}`);
  return lines.join('\n');
}
