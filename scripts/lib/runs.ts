/**
 * Client-side run operations shared by the CLI, the demo and tests: validate and start a run,
 * read its state, send gate decisions, resume a finished-but-incomplete run.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import {
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { refOf } from '../../activities/artifacts.js';
import { unenforceableBudget } from '../../activities/llm/prices.js';
import { isAutoModel, parseModelSpec, type ModelSpec } from '../../common/modelSpec.js';
import type { ExperimentProgress } from '../../common/experiment.js';
import { loadTask, TaskError } from '../../activities/tasks.js';
import { FIRST_BEAT_MS } from '../../activities/heartbeat.js';
import { TASK_QUEUES } from '../../common/queues.js';
import {
  addUsage,
  researchRunInputSchema,
  ZERO_USAGE,
  type ArtifactRef,
  type Budget,
  type GatePolicy,
  type ResearchRunInput,
  type ResearchRunResult,
  type ReviewDecision,
  type ReviewOutcome,
  type RunMemo,
  type RunProgress,
  type StageName,
} from '../../common/schemas.js';
import { innermostMessage as rootMessage } from '../../common/failures.js';
import { isValidRunId, RUN_ID_RULE } from '../../common/runIds.js';
import { LAB_MODEL, LAB_STAGE, LAB_STATUS, LAB_TASK } from '../../common/searchAttributes.js';
import { STAGES } from '../../common/stages.js';
import { progressQuery, reviewUpdate, type GateRef } from '../../workflows/definitions.js';
import { researchRun } from '../../workflows/researchRun.js';
import { CliError, explainNotFound } from './client.js';
import { decisionCommands, gateFlags } from './format.js';

export interface RunRequest {
  task: string;
  model: string;
  reasoningEffort?: 'low' | 'medium' | 'high';
  gates?: Partial<GatePolicy>;
  budget?: Budget;
  stageTimeouts?: ResearchRunInput['stageTimeouts'];
  /** Bounds of the experiment's agent loop (steps, wall time) and its sandboxed commands. */
  experiment?: ResearchRunInput['experiment'];
  workflowId?: string;
}

export function newRunId(taskName: string): string {
  return `${taskName.slice(0, 60).replace(/\.{2,}/g, '.')}-${randomBytes(3).toString('hex')}`;
}

/** A validated run that has not touched the server yet. */
export interface PlannedRun {
  workflowId: string;
  input: ResearchRunInput;
}

/** Validates model, task and options without writing anything; throws CliError (exit 2) on bad input. */
export async function planRun(req: RunRequest): Promise<PlannedRun> {
  let spec: ModelSpec;
  try {
    spec = parseModelSpec(req.model);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  // A USD budget the price table cannot enforce would be silently ignored: refuse it up front.
  const unenforceable = unenforceableBudget(spec, req.budget);
  if (unenforceable) throw new CliError(unenforceable, 2);
  let task;
  try {
    task = await loadTask(req.task);
  } catch (err) {
    if (err instanceof TaskError) throw new CliError(err.message, 2);
    throw err;
  }
  if (req.workflowId !== undefined && !isValidRunId(req.workflowId)) {
    throw new CliError(`"${req.workflowId}" is not a valid run id: ${RUN_ID_RULE}`, 2);
  }
  const workflowId = req.workflowId ?? newRunId(task.name);
  const input: ResearchRunInput = {
    task: { name: task.name, text: task.content },
    model: req.model,
    ...(req.reasoningEffort ? { reasoningEffort: req.reasoningEffort } : {}),
    gates: { stages: [], ...req.gates },
    budget: req.budget ?? {},
    stageTimeouts: req.stageTimeouts,
    ...(req.experiment ? { experiment: req.experiment } : {}),
  };
  // Validate the whole input before writing anything.
  const checked = researchRunInputSchema.safeParse(input);
  if (!checked.success) {
    throw new CliError(checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 2);
  }
  return { workflowId, input };
}

/** Validates everything; the task's text travels in the input (the run stores it on a worker), so nothing is written here. */
export async function prepareRun(req: RunRequest): Promise<{ workflowId: string; input: ResearchRunInput }> {
  const { workflowId, input } = await planRun(req);
  return { workflowId, input };
}

/**
 * Where a run's task is in the store: the reference its input carries, or the one the run's first
 * activity wrote for the text it carried (content-addressed, so computed here without the store).
 */
export function taskRefOfRun(runId: string, input: Pick<ResearchRunInput, 'task'>): ArtifactRef {
  return 'ref' in input.task ? { ...input.task.ref, mediaType: input.task.ref.mediaType ?? 'text/markdown' } : refOf(runId, 'task.md', Buffer.from(input.task.text, 'utf8'), 'text/markdown');
}

export async function startRun(client: Client, workflowId: string, input: ResearchRunInput) {
  return client.workflow.start(researchRun, {
    taskQueue: TASK_QUEUES.research,
    workflowId,
    // A run id names a folder of artifacts: a second run under it would overwrite the first's files.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [input],
    typedSearchAttributes: [
      { key: LAB_TASK, value: input.task.name },
      { key: LAB_MODEL, value: input.model },
      { key: LAB_STATUS, value: 'running' },
    ],
    memo: { completed: {}, ...(input.resumedFrom ? { resumedFrom: input.resumedFrom } : {}) } satisfies RunMemo,
    staticSummary: `${input.task.name} with ${input.model}${input.resumedFrom ? ` (resumed from ${input.resumedFrom})` : ''}`,
  });
}

export interface RunView {
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT... */
  execution: string;
  /** Durable Lab's status (search attribute), e.g. awaiting_review, budget_exhausted. */
  status: string;
  task?: string;
  model?: string;
  /** The stage the run was at when last seen (search attribute): where a failed run stopped. */
  stage?: StageName;
  memo: RunMemo;
  startTime: Date;
  closeTime?: Date;
  progress?: RunProgress;
  result?: ResearchRunResult;
  failure?: string;
  /** The stage activity in flight, from the server (no worker needed): attempt, last error, tokens so far. */
  activeStage?: ActiveStage;
  /** How a run that was stopped from outside (lab cancel, --terminate, a timeout) ended, and the stage it was in. */
  stopped?: { how: 'cancelled' | 'terminated' | 'timed_out'; stage?: StageName };
  /** The experiment's step count, from its child workflow (needs a worker to answer). */
  /** The experiment's step, and the sandbox hosts it lost (it started over after each). */
  experimentStep?: { step: number; maxSteps: number; hostsLost?: number };
}

const STOPPED: Record<string, NonNullable<RunView['stopped']>['how']> = { CANCELLED: 'cancelled', TERMINATED: 'terminated', TIMED_OUT: 'timed_out' };

export interface ActiveStage {
  stage?: StageName;
  attempt: number;
  /** Output tokens written so far, for models that stream (the embedded model). */
  outputTokens?: number;
  /** Why the previous attempt failed, when this is a retry. */
  lastFailure?: string;
  /** Set when no worker is working on the activity: its worker missed the heartbeat (died) or none has picked it up. */
  waitingForWorker?: WorkerWait;
}

/** An activity nobody works on: its last heartbeat, and when it is (or was) retried. */
export interface WorkerWait {
  /** The activity (e.g. runStage, experimentAgentStep). */
  activity: string;
  /** When its worker last reported (heartbeat, else start). */
  lastHeard?: string;
  /** When the lost attempt times out (heartbeat timeout), while it still counts as started. */
  timesOutAt?: string;
  /** When the next attempt is scheduled; absent when it waits for any worker to poll. */
  retryAt?: string;
}

type PendingActivity = NonNullable<WorkflowExecutionDescription['raw']['pendingActivities']>[number];

const toIso = (t: Parameters<typeof optionalTsToMs>[0]): string | undefined => {
  const ms = optionalTsToMs(t);
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

/**
 * Whether the pending activity waits for a worker: its attempt missed the heartbeat (its worker is
 * gone; the server retries it once the heartbeat timeout passes), or a retry after such a loss has
 * not been picked up. A slow stage with a live worker keeps heartbeating and is not reported.
 */
export function workerWaitOf(pending: PendingActivity, nowMs = Date.now(), heartbeatMs?: number): WorkerWait | undefined {
  const activity = pending.activityType?.name ?? 'activity';
  const lastHeard = toIso(pending.lastHeartbeatTime) ?? toIso(pending.lastStartedTime);
  const timeoutMs = optionalTsToMs(pending.activityOptions?.heartbeatTimeout) || heartbeatMs;
  const lostToHeartbeat = /heartbeat/i.test(pending.lastFailure?.message ?? '') || pending.lastFailure?.timeoutFailureInfo?.timeoutType === proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT;
  // PENDING_ACTIVITY_STATE_SCHEDULED = 1, STARTED = 2
  if (pending.state === 1 && lostToHeartbeat) {
    const next = toIso(pending.nextAttemptScheduleTime);
    return { activity, lastHeard, ...(next && Date.parse(next) > nowMs ? { retryAt: next } : {}) };
  }
  if (pending.state === 2 && lastHeard && timeoutMs) {
    // The lab's activities beat a second in, then every third of the timeout, at most every 5 s
    // (activities/heartbeat.ts): three missed beats mean the worker is gone. One that never beat
    // missed its first beat a second after it started.
    const silentMs = nowMs - Date.parse(lastHeard) - (pending.lastHeartbeatTime ? 0 : FIRST_BEAT_MS);
    const limitMs = Math.max(2000, Math.min(timeoutMs / 2, 15_000));
    if (silentMs > limitMs) return { activity, lastHeard, timesOutAt: new Date(Date.parse(lastHeard) + timeoutMs).toISOString() };
  }
  return undefined;
}

function activeStageOf(d: WorkflowExecutionDescription, heartbeatMs?: number, child?: WorkflowExecutionDescription): ActiveStage | undefined {
  const pending = d.raw.pendingActivities?.[0] ?? child?.raw.pendingActivities?.[0];
  if (!pending) return undefined;
  const payload = pending.heartbeatDetails?.payloads?.[0];
  const details = payload ? (defaultPayloadConverter.fromPayload(payload) as { stage?: StageName; outputTokens?: number }) : {};
  const waiting = workerWaitOf(pending, Date.now(), d.raw.pendingActivities?.[0] ? heartbeatMs : undefined);
  return {
    stage: details.stage,
    attempt: pending.attempt ?? 1,
    outputTokens: details.outputTokens || undefined,
    lastFailure: pending.lastFailure?.message ?? undefined,
    ...(waiting ? { waitingForWorker: waiting } : {}),
  };
}

/** The pending child workflow (the experiment) of a run, described; undefined when none. */
async function pendingChildOf(client: Client, d: WorkflowExecutionDescription): Promise<WorkflowExecutionDescription | undefined> {
  const child = d.raw.pendingChildren?.[0];
  if (!child?.workflowId) return undefined;
  return client.workflow.getHandle(child.workflowId, child.runId ?? undefined).describe().catch(() => undefined);
}

/** A run's memo; runs started by other clients (or failed before their first stage) may have none. */
function memoOf(raw: Record<string, unknown> | undefined): RunMemo {
  const memo = (raw ?? {}) as Partial<RunMemo>;
  return { ...memo, completed: memo.completed ?? {} };
}

async function describe(client: Client, runId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await client.workflow.getHandle(runId).describe();
  } catch (err) {
    return explainNotFound(err, runId);
  }
}

/** Reads a run: progress (via query, needs a worker) while it is open; memo and result when closed. */
export async function viewRun(client: Client, runId: string, opts: { queryTimeoutMs?: number } = {}): Promise<RunView> {
  const d = await describe(client, runId);
  const handle = client.workflow.getHandle(runId);
  const view: RunView = {
    runId,
    execution: d.status.name,
    status: d.typedSearchAttributes.get(LAB_STATUS) ?? d.status.name.toLowerCase(),
    task: d.typedSearchAttributes.get(LAB_TASK),
    model: d.typedSearchAttributes.get(LAB_MODEL),
    stage: d.typedSearchAttributes.get(LAB_STAGE) as StageName | undefined,
    memo: memoOf(await d.memo),
    startTime: d.startTime,
    closeTime: d.closeTime,
  };
  const child = d.status.name === 'RUNNING' ? await pendingChildOf(client, d) : undefined;
  const heartbeatMs = d.raw.pendingActivities?.length ? ((await runInput(client, runId).catch(() => undefined))?.stageTimeouts?.heartbeatSeconds ?? 60) * 1000 : undefined;
  view.activeStage = activeStageOf(d, heartbeatMs, child);
  if (d.status.name === 'COMPLETED') {
    view.result = (await handle.result()) as ResearchRunResult;
  } else if (d.status.name === 'FAILED') {
    try {
      await handle.result();
    } catch (err) {
      view.failure = rootMessage(err);
    }
  }
  if (d.status.name === 'RUNNING') view.progress = await queryProgress(client, runId, Math.max(opts.queryTimeoutMs ?? 0, 5000));
  else if (opts.queryTimeoutMs !== undefined) view.progress = await queryProgress(client, runId, opts.queryTimeoutMs);
  // The experiment's step count, from its own query: only asked when a worker answered the run's.
  if (child && view.progress) {
    const step = await client
      .withDeadline(Date.now() + 2000, () => client.workflow.getHandle(child.workflowId, child.runId).query<ExperimentProgress>('experimentProgress'))
      .catch(() => undefined);
    if (step) view.experimentStep = { step: step.step, maxSteps: step.maxSteps, ...(step.hostsLost?.length ? { hostsLost: step.hostsLost.length } : {}) };
  }
  const how = STOPPED[d.status.name];
  if (how) {
    const stage = view.progress?.currentStage ?? view.stage;
    view.stopped = { how, ...(stage ? { stage } : {}) };
  }
  return view;
}

/** The progress query, or undefined when no worker answers in time. */
export async function queryProgress(client: Client, runId: string, timeoutMs: number): Promise<RunProgress | undefined> {
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(runId).query(progressQuery));
  } catch {
    return undefined;
  }
}

/**
 * Sends a decision for the gate `gate` names (stage, and revision where given); the run refuses it
 * when that gate is no longer open. Without `gate`: a run that gates one stage is decided at the
 * version open now (read here, then pinned); a run that gates several is refused (exit 2) with the
 * open gate named, since the decision could land on a gate that opened after its sender looked.
 */
export async function sendReview(client: Client, runId: string, decision: ReviewDecision, gate?: GateRef, timeoutMs = 30_000): Promise<ReviewOutcome & { gate?: GateRef }> {
  const d = await describe(client, runId);
  if (d.status.name !== 'RUNNING') {
    // Also what a decision that lost a race to the run's last gate sees: the same line as the others.
    throw new CliError(`run "${runId}": ${NO_GATE_WAITING} (the run has ended: ${d.status.name.toLowerCase()})`);
  }
  const pinned = gate ?? (await openGateOf(client, runId, decision.action));
  try {
    const outcome = await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.getHandle(runId).executeUpdate(reviewUpdate, { args: [{ ...decision, ...(pinned ? { gate: pinned } : {}) }] }),
    );
    return { ...outcome, ...(pinned ? { gate: pinned } : {}) };
  } catch (err) {
    throw new CliError(explainReviewFailure(err, runId, timeoutMs));
  }
}

/** The gate a decision without `--stage` answers; see sendReview. */
async function openGateOf(client: Client, runId: string, action: ReviewDecision['action']): Promise<GateRef | undefined> {
  const gated = (await runInput(client, runId))?.gates?.stages ?? [];
  if (gated.length === 0) return undefined; // no gate will open: the run refuses it with the usual line
  const open = (await queryProgress(client, runId, 5000))?.pendingGate;
  if (gated.length > 1) {
    const example = `lab ${action} ${runId} ${open ? gateFlags(open.stage, open.revisionsUsed) : '--stage <stage>'}`;
    throw new CliError(
      `run "${runId}" has gates at ${gated.join(', ')}: say which one you decide, e.g. ${example}${open ? ` (open now: ${open.stage}, revision ${open.revisionsUsed})` : ''}`,
      2,
    );
  }
  return open ? { stage: open.stage, revision: open.revisionsUsed } : { stage: gated[0] };
}

/** The input a run was started with (its first history event), without reading the rest of its history. */
export async function runInput(client: Client, runId: string): Promise<ResearchRunInput | undefined> {
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: runId },
    maximumPageSize: 1,
  });
  const payload = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? (defaultPayloadConverter.fromPayload(payload) as ResearchRunInput) : undefined;
}

export const NO_GATE_WAITING = 'no stage is waiting for review in this run';

/**
 * One line for a refused review. Decisions that lose a race at the last gate are refused by the
 * validator, or (when the winner closes the run first) aborted by the server: both get the same line.
 */
export function explainReviewFailure(err: unknown, runId: string, timeoutMs: number): string {
  const message = rootMessage(err);
  if (err instanceof WorkflowUpdateFailedError) return `run "${runId}": ${message}`;
  if (/aborted by closing workflow|workflow execution already completed|workflow.*(is|was) (closed|completed)/i.test(message)) {
    return `run "${runId}": ${NO_GATE_WAITING} (the run has ended)`;
  }
  // Temporal holds an update no worker has taken yet and hands it to the run when a worker picks it up.
  if (/deadline/i.test((err as Error)?.message ?? '')) return `${NOT_APPLIED_YET} within ${timeoutMs / 1000}s: the server holds the decision and the run takes it when a worker picks the run up (lost if the server restarts first); is \`lab worker\` running? \`lab status ${runId}\` shows whether it is still at the gate`;
  return `run "${runId}": ${message}`;
}

/** The start of the line for a decision no worker has taken yet (it may still be applied). */
export const NOT_APPLIED_YET = 'not applied yet: no worker answered';

const RESUMABLE = new Set(['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

/**
 * Starts a new run that reuses every completed stage of `runId` (read from its memo, no worker
 * needed) and starts at the first incomplete stage.
 */
export async function resumeRun(
  client: Client,
  runId: string,
  overrides: { budget?: Budget; model?: string } = {},
): Promise<{ workflowId: string; reused: StageName[]; input: ResearchRunInput }> {
  const d = await describe(client, runId);
  const outcome = d.status.name === 'COMPLETED' ? ((await client.workflow.getHandle(runId).result()) as ResearchRunResult) : undefined;
  const resumable = RESUMABLE.has(d.status.name) || outcome?.status === 'budget_exhausted';
  if (!resumable) {
    const why = d.status.name === 'RUNNING' ? await whyRunningIsNotResumable(client, runId, d) : `it ended as ${outcome?.status ?? d.status.name.toLowerCase()}`;
    throw new CliError(`run "${runId}" cannot be resumed: ${why}`);
  }
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload?.data) throw new CliError(`run "${runId}" has no readable input to resume from`);
  const previous = JSON.parse(Buffer.from(payload.data).toString('utf8')) as ResearchRunInput;
  const memo = memoOf(await d.memo);
  const reuse = { ...(previous.reuse ?? {}), ...memo.completed };
  const reused = STAGES.filter((s) => reuse[s]);
  // Lineage spend: everything the earlier runs paid for, revisions and the stopped stage included.
  const spentHere = outcome?.totals ?? memo.spent ?? ZERO_USAGE;
  const model = overrides.model ?? previous.model;
  const budget = overrides.budget ?? previous.budget;
  // `auto` is chosen by a worker from its keys; the run checks the budget against that choice.
  const unenforceable = isAutoModel(model) ? undefined : unenforceableBudget(parseModelSpec(model), budget);
  if (unenforceable) throw new CliError(unenforceable, 2);
  const input: ResearchRunInput = {
    ...previous,
    model,
    budget,
    reuse,
    resumedFrom: runId,
    priorUsage: addUsage(previous.priorUsage ?? ZERO_USAGE, spentHere),
  };
  const workflowId = `${runId.replace(/-resume\d+$/, '')}-resume${resumeCount(runId) + 1}`;
  await startRun(client, workflowId, input);
  return { workflowId, reused, input };
}

/** A running run continues by itself, unless it waits at a gate: then it needs a decision, named here. */
async function whyRunningIsNotResumable(client: Client, runId: string, d: WorkflowExecutionDescription): Promise<string> {
  const gate = (await queryProgress(client, runId, 5000))?.pendingGate;
  const stage = gate?.stage ?? (d.typedSearchAttributes.get(LAB_STATUS) === 'awaiting_review' ? (d.typedSearchAttributes.get(LAB_STAGE) as StageName | undefined) : undefined);
  if (stage) return `it is waiting for a decision at the ${stage} gate; it goes on once you decide: ${decisionCommands(runId, stage, gate?.revisionsUsed ?? 0)}`;
  return 'it is still running and continues by itself (a restarted worker picks it up)';
}

function resumeCount(runId: string): number {
  const m = /-resume(\d+)$/.exec(runId);
  return m ? Number(m[1]) : 0;
}

/** The innermost cause's message: what a person can act on. */
export { rootMessage };
