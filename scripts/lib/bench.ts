/**
 * Client-side benchmark operations: start a sweep, read where it stands, find which items already
 * finished (for resume and retry), and gather everything `lab report` tabulates, all from Temporal
 * (workflow results and visibility), so the CLI needs no access to the workers' files.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { benchItemKey, type BenchmarkInput, type BenchProgress, type BenchResult } from '../../common/benchmark.js';
import { mapLimited } from '../../common/mapLimited.js';
import { TASK_QUEUES } from '../../common/queues.js';
import type { ReviewResult } from '../../common/reviews.js';
import type { ResearchRunResult } from '../../common/schemas.js';
import { LAB_BENCH, LAB_KIND, LAB_MODEL, LAB_STATUS, LAB_TASK } from '../../common/searchAttributes.js';
import type { ItemFailure, ObjectiveRecord, ReportInput, ReportState, ReviewRecord, RunCostRecord } from '../../report/types.js';
import type { CompetitionRunResult } from '../../common/competition.js';
import { benchProgressQuery } from '../../workflows/definitions.js';
import { benchmark } from '../../workflows/benchmark.js';
import { CliError, explainNotFound } from './client.js';
import { EXIT } from './exitCodes.js';
import { rootMessage } from './runs.js';

export async function benchExists(client: Client, benchId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(benchId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export async function startBench(client: Client, benchId: string, input: BenchmarkInput) {
  return client.workflow.start(benchmark, {
    taskQueue: TASK_QUEUES.research,
    workflowId: benchId,
    // A retry or resume starts the benchmark again under its id once the previous execution has closed.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    args: [input],
    typedSearchAttributes: [
      { key: LAB_KIND, value: 'benchmark' },
      { key: LAB_BENCH, value: benchId },
      { key: LAB_STATUS, value: 'running' },
    ],
    staticSummary: `benchmark: tasks ${input.tasks}, ${input.mode}, agents ${input.agents?.join(', ') || '(outputs)'}, judges ${input.judges.join(', ')}`,
  });
}

export interface BenchView {
  benchId: string;
  execution: string;
  progress?: BenchProgress;
  result?: BenchResult;
  failure?: string;
  /** Children of this benchmark waiting at a human gate. */
  atGate: number;
  startTime: Date;
  closeTime?: Date;
}

export async function viewBench(client: Client, benchId: string): Promise<BenchView> {
  const handle = client.workflow.getHandle(benchId);
  const d = await handle.describe().catch((err) => explainNotFound(err, benchId, 'benchmark'));
  if (d.type !== 'benchmark') throw new CliError(`"${benchId}" is a ${d.type} workflow, not a benchmark`, 2);
  const view: BenchView = { benchId, execution: d.status.name, atGate: 0, startTime: d.startTime, closeTime: d.closeTime };
  if (d.status.name === 'RUNNING') {
    view.progress = await client.withDeadline(Date.now() + 5000, () => handle.query(benchProgressQuery)).catch(() => undefined);
    view.atGate = await countChildren(client, benchId, `LabStatus = 'awaiting_review' AND ExecutionStatus = 'Running'`);
  } else if (d.status.name === 'COMPLETED') {
    view.result = (await handle.result()) as BenchResult;
  } else {
    await handle.result().catch((err) => (view.failure = rootMessage(err)));
  }
  return view;
}

async function countChildren(client: Client, benchId: string, filter: string): Promise<number> {
  try {
    const { count } = await client.workflow.count(`LabBench = '${benchId}' AND ${filter}`);
    return count;
  } catch {
    return 0;
  }
}

/** The latest execution of every workflow of a benchmark (its children, not itself). */
async function benchChildren(client: Client, benchId: string): Promise<WorkflowExecutionInfo[]> {
  const latest = new Map<string, WorkflowExecutionInfo>();
  for await (const w of client.workflow.list({ query: `LabBench = '${escapeQuery(benchId)}' AND WorkflowType != 'benchmark'` })) {
    const seen = latest.get(w.workflowId);
    if (!seen || seen.startTime < w.startTime) latest.set(w.workflowId, w);
  }
  return [...latest.values()];
}

function itemOf(w: WorkflowExecutionInfo): { task: string; agent: string; kind: string } {
  return {
    task: w.typedSearchAttributes.get(LAB_TASK) ?? '?',
    agent: w.typedSearchAttributes.get(LAB_MODEL) ?? '?',
    kind: w.typedSearchAttributes.get(LAB_KIND) ?? '?',
  };
}

/** Items every review of which completed: a resumed or retried benchmark skips them. */
export async function finishedItems(client: Client, benchId: string, reviewKinds: string[]): Promise<string[]> {
  const completed = new Map<string, Set<string>>();
  for (const w of await benchChildren(client, benchId)) {
    const { task, agent, kind } = itemOf(w);
    if (!kind.startsWith('review:') || w.status.name !== 'COMPLETED') continue;
    const key = benchItemKey(task, agent);
    completed.set(key, (completed.get(key) ?? new Set()).add(kind.slice('review:'.length)));
  }
  return [...completed].filter(([, kinds]) => reviewKinds.every((k) => kinds.has(k))).map(([key]) => key);
}

/** The benchmark's original input (from its first execution's start event). */
export async function benchInput(client: Client, benchId: string): Promise<BenchmarkInput> {
  const history = await client.workflow.getHandle(benchId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) throw new CliError(`benchmark "${benchId}" has no readable input`);
  const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as BenchmarkInput;
  delete input.carried;
  return input;
}

/** A retry's `--item`: `<task>/<agent model>` (as `benchItemKey` writes it). */
export function itemKeyProblem(value: string): string | undefined {
  return /^[^/\s]+\/.+$/.test(value) ? undefined : `--item must be <task>/<agent model>, got "${value}"`;
}

export interface RestartOptions {
  /** Retry only these items (`lab bench retry --item`). */
  items?: string[];
  concurrency?: number;
}

/**
 * `lab bench retry|resume <benchId>` (and the console's retry buttons): checks that the benchmark
 * has closed with something to run again, then starts it again under its id with the finished
 * items skipped. Returns the one line the CLI prints; throws a CliError with the reason it refuses.
 */
export async function restartBench(client: Client, benchId: string, action: 'retry' | 'resume', options: RestartOptions = {}): Promise<{ line: string; finished: string[] }> {
  const items = action === 'retry' ? options.items ?? [] : [];
  const bad = items.map(itemKeyProblem).find(Boolean);
  if (bad) throw new CliError(bad, 2);
  const view = await viewBench(client, benchId);
  if (view.execution === 'RUNNING') throw new CliError(`benchmark ${benchId} is still running; failed items can be retried once it has finished (lab bench status ${benchId} --follow)`);
  const last = view.result;
  if (last && !last.failed && !last.skipped) throw new CliError(`benchmark ${benchId} finished every item; nothing to ${action} (tables: lab report ${benchId})`);
  if (action === 'retry' && last && !last.failed) throw new CliError(`benchmark ${benchId} has no failed item to retry; lab bench resume ${benchId} starts the ones the budget skipped`);
  const previous = await benchInput(client, benchId);
  const finished = await finishedItems(client, benchId, previous.reviews as string[]);
  if (items.length) {
    const done = items.filter((k) => finished.includes(k));
    if (done.length) throw new CliError(`already finished, nothing to retry: ${done.join(', ')}`, 2);
  }
  const input: BenchmarkInput = {
    ...previous,
    skip: finished,
    only: items.length ? items : undefined,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  };
  await startBench(client, benchId, input);
  const line = `${action === 'retry' ? 'retrying' : 'resuming'} benchmark ${benchId}: ${finished.length} finished item(s) kept${items.length ? `, running ${items.join(', ')}` : ''}`;
  return { line, finished };
}

/** Time left at the pace so far (items finished since the benchmark started); `?` before the first. */
export function timeLeft(startedAt: string, finished: number, total: number, nowMs = Date.now()): string {
  if (!finished) return '?';
  if (finished >= total) return '0s';
  const seconds = Math.round(((nowMs - Date.parse(startedAt)) / 1000 / finished) * (total - finished));
  return seconds >= 3600 ? `${Math.floor(seconds / 3600)}h${Math.round((seconds % 3600) / 60)}m` : seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
}

/** The research (or competition) run a benchmark child belongs to: review ids are `<runId>.review-<kind>[-no-code]`. */
export function itemRunIdOf(workflowId: string): string {
  return workflowId.replace(/\.review-[a-z_]+(-no-code)?$/, '');
}

/** Every judge's scores, every run's cost and every unfinished item's reason, for `lab report <benchId>`. */
export async function loadBenchReport(client: Client, benchId: string): Promise<ReportInput & { exitCode: number }> {
  const { exitCode, ...state } = benchReportState(await viewBench(client, benchId));
  const children = await benchChildren(client, benchId);
  const records: ReviewRecord[] = [];
  const runs: RunCostRecord[] = [];
  const failures: ItemFailure[] = [];
  const objective: ObjectiveRecord[] = [];
  const finished = new Set<string>();
  await mapLimited(children, 16, async (w) => {
    const { task, agent, kind } = itemOf(w);
    const handle = client.workflow.getHandle(w.workflowId, w.runId);
    if (w.status.name === 'RUNNING') return;
    if (w.status.name !== 'COMPLETED') {
      const reason = await handle.result().then(() => w.status.name.toLowerCase(), (err) => rootMessage(err));
      failures.push({ task, agent, part: kind, reason });
      return;
    }
    if (kind === 'competition') {
      const result = (await handle.result()) as CompetitionRunResult;
      const s = result.score;
      objective.push({
        task, agent, runId: w.workflowId, status: s.status, ...(s.reason ? { reason: s.reason } : {}), metric: s.metric.name, direction: s.metric.direction,
        ...(s.score !== undefined ? { score: s.score } : {}), baseline: s.baseline, reference: s.reference,
        ...(s.relativeImprovement !== undefined ? { relativeImprovement: s.relativeImprovement } : {}), success: s.success,
        runtimeSeconds: s.runtimeSeconds, linesChanged: s.linesChanged,
      });
      runs.push({ task, agent, status: s.status, ...result.usage });
    } else if (kind === 'research') {
      const result = (await handle.result()) as ResearchRunResult;
      runs.push({ task, agent, status: result.status, ...result.totals });
      if (result.status !== 'completed') failures.push({ task, agent, part: kind, reason: result.reason ?? result.status });
    } else if (kind.startsWith('review:')) {
      const result = (await handle.result()) as ReviewResult;
      finished.add(`${benchItemKey(task, agent)}|${kind}`);
      for (const v of result.verdicts) {
        records.push({
          kind: result.kind,
          ...(result.withCode === false ? { variant: 'no_code' } : {}),
          task,
          agent,
          judge: v.judge,
          scores: v.scores,
          ...(v.hasHallucination !== undefined ? { hasHallucination: v.hasHallucination } : {}),
          source: w.workflowId,
          // The run they judged.
          runId: itemRunIdOf(w.workflowId),
        });
      }
    }
  });
  // A failure a later retry made good is not a failure any more.
  const open = failures.filter((f) => !(f.part.startsWith('review:') && finished.has(`${benchItemKey(f.task, f.agent)}|${f.part}`)));
  return { title: `benchmark ${benchId}`, state, records, runs, failures: open, objective, exitCode };
}

/**
 * What a report of the benchmark says about where it stands, and `lab report`'s exit code: 0 for a
 * finished benchmark (some items may have failed) or a running one (the report is partial), 3 when
 * every item it ran failed or it failed, was cancelled or terminated, 4 when the budget stopped it
 * before any item finished (README: exit codes).
 */
export function benchReportState(view: Pick<BenchView, 'execution' | 'progress' | 'result' | 'failure'>): ReportState & { exitCode: number } {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const counts = (c: { total: number; done: number; failed: number; skipped: number }) =>
    `${c.done} done, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped (budget)` : ''}`;
  if (view.execution === 'RUNNING') {
    const p = view.progress;
    const where = p && p.total > 0 ? `${p.done + p.failed + p.skipped} of ${plural(p.total, 'item')} finished (${counts(p)}), ${p.running} running` : 'its items are not started yet';
    return { state: 'running', note: `partial: the benchmark is still running; ${where}. This report holds what has finished so far.`, exitCode: EXIT.ok };
  }
  const r = view.result;
  if (view.execution === 'COMPLETED' && r) {
    if (r.done === 0 && r.failed > 0) {
      const skipped = r.skipped ? `, ${r.skipped} skipped (budget)` : '';
      return { state: 'failed', note: `failed: every ${r.skipped ? 'started ' : ''}item failed (${r.failed} of ${plural(r.total, 'item')}${skipped}); the failures say why, and lab bench retry runs them again`, exitCode: EXIT.runFailed };
    }
    if (r.done === 0 && r.skipped > 0) {
      return { state: 'stopped', note: `stopped: the budget ran out before any item finished (${counts(r)} of ${r.total}); lab bench resume continues`, exitCode: EXIT.runStopped };
    }
    return { state: 'completed', note: `completed: ${r.done} of ${plural(r.total, 'item')} done${r.failed || r.skipped ? ` (${counts(r)})` : ''}`, exitCode: EXIT.ok };
  }
  const how = view.execution.toLowerCase().replace('_', ' ');
  const state = view.execution === 'CANCELED' || view.execution === 'TERMINATED' ? 'stopped' : 'failed';
  return { state, note: `${how}: the benchmark did not finish${view.failure ? ` (${view.failure})` : ''}; this report holds what finished before`, exitCode: EXIT.runFailed };
}


function escapeQuery(value: string): string {
  return value.replace(/'/g, "\\'");
}
