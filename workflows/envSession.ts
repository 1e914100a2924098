/**
 * One Gym-style environment session over a competition task (MLE-Dojo style): prepared once,
 * then each step is an Update (`step`) that returns {observation, reward, done, info}; the
 * `session` query says where it stands. Steps run one at a time; the session continues as new
 * every few steps, carrying its state, so a long session keeps a small history. A session
 * outlives any worker and the HTTP server that drives it (`lab env serve`). See docs/gym.md.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  currentUpdateInfo,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CompetitionActivities } from '../activities/competition/index.js';
import type { EnvSessionActivities } from '../activities/envSession.js';
import type { EnvironmentActivities } from '../activities/environment/index.js';
import type { PreparedCompetition, SubmissionScore } from '../common/competition.js';
import {
  describeActionError,
  envSessionInputSchema,
  SESSION_ACTIONS,
  sessionActionSchema,
  type EnvResetResult,
  type EnvSessionInput,
  type EnvSessionLimits,
  type EnvSessionState,
  type EnvSessionView,
  type EnvStepRecord,
  type EnvStepResult,
  type SessionAction,
  type SessionObservation,
  type StepInfo,
} from '../common/envSession.js';
import { TASK_QUEUES } from '../common/queues.js';
import { LAB_KIND, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { hostWaitFor, isSandboxHostLost, onSandboxHost, sandboxQueueFor } from './sandboxHost.js';

/** One step: validated before it is accepted (a rejected step leaves no trace in history). */
export const envStepUpdate = defineUpdate<EnvStepResult, [SessionAction]>('step');
/** Waits until the session is prepared; returns the reset observation. */
export const envReadyUpdate = defineUpdate<EnvResetResult>('ready');
export const envSessionQuery = defineQuery<EnvSessionView>('session');

/** Update failure types the HTTP server maps to status codes. */
export const ENV_ERRORS = { invalidAction: 'InvalidAction', sessionDone: 'SessionDone', prepareFailed: 'PrepareFailed' } as const;

const records = proxyActivities<EnvSessionActivities>({
  summary: 'step record',
  taskQueue: TASK_QUEUES.research,
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidInput'] },
});

function setup(taskQueue: string, hostWait: number | undefined) {
  return proxyActivities<CompetitionActivities>({
    summary: 'competition set-up',
    taskQueue,
    startToCloseTimeout: '10m',
    ...(hostWait ? { scheduleToStartTimeout: `${hostWait}s` } : {}),
    heartbeatTimeout: '60s',
    retry: { initialInterval: '2s', maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput', 'ConfigError'] },
  });
}

export async function envSession(raw: EnvSessionInput): Promise<EnvSessionView> {
  const parsed = envSessionInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid session input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidInput');
  }
  const { task, limits } = parsed.data;
  const sessionId = workflowInfo().workflowId;
  const now = () => new Date().toISOString();
  const s: EnvSessionState = parsed.data.carried
    ? { ...parsed.data.carried, executions: parsed.data.carried.executions + 1 }
    : { sessionId, task, status: 'preparing', step: 0, maxSteps: limits.maxSteps, done: false, rewardForm: limits.reward, totalReward: 0, startedAt: now(), updatedAt: now(), executions: 1 };
  setHandler(envSessionQuery, () => view(s));

  // Steps take a ticket as they arrive and run when their number comes up: one at a time, in
  // arrival order. (A `busy` flag let every waiting step through at once when it cleared: the SDK
  // resolves every condition that holds in one pass, before any of them runs.)
  // A session started by older code keeps its gate until it continues as new (its history replays).
  const inArrivalOrder = patched('env-steps-in-arrival-order');
  let ticketsIssued = 0;
  let ticketServed = 0;
  let running = false;
  const busy = () => (inArrivalOrder ? ticketServed < ticketsIssued : running);
  let stepsHere = 0;

  setHandler(envReadyUpdate, async () => {
    await condition(() => s.status !== 'preparing');
    if (!s.reset) throw ApplicationFailure.nonRetryable(s.error ?? 'the session could not be prepared', ENV_ERRORS.prepareFailed);
    return s.reset;
  });

  setHandler(
    envStepUpdate,
    async (action) => {
      const ticket = ticketsIssued++;
      try {
        await condition(() => (inArrivalOrder ? ticketServed === ticket : !running) && s.status !== 'preparing');
        running = true;
        if (s.status === 'failed') throw ApplicationFailure.nonRetryable(s.error ?? 'the session could not be prepared', ENV_ERRORS.prepareFailed);
        const stepId = currentUpdateInfo()?.id;
        // A re-sent step (same id) after a continue-as-new: answer it again instead of acting twice.
        if (stepId && s.last?.stepId === stepId) return s.last.result;
        if (s.done) throw ApplicationFailure.nonRetryable(`session ${sessionId} is done (${s.endReason})`, ENV_ERRORS.sessionDone);
        stepsHere++;
        const result = await runStep(sessionActionSchema.parse(action));
        if (stepId) s.last = { stepId, result };
        return result;
      } finally {
        running = false;
        ticketServed++;
      }
    },
    {
      validator: (action) => {
        const problem = describeActionError(action);
        if (problem) throw ApplicationFailure.nonRetryable(problem, ENV_ERRORS.invalidAction);
        if (s.done) throw ApplicationFailure.nonRetryable(`session ${sessionId} is done (${s.endReason})`, ENV_ERRORS.sessionDone);
        if (s.status === 'failed') throw ApplicationFailure.nonRetryable(s.error ?? 'the session could not be prepared', ENV_ERRORS.prepareFailed);
      },
    },
  );

  if (!parsed.data.carried) {
    upsertSearchAttributes([
      { key: LAB_KIND, value: 'env' },
      { key: LAB_TASK, value: task },
      { key: LAB_STATUS, value: 'running' },
    ]);
    try {
      // The workspace and hidden split stay on one sandbox host: every step of the session goes there.
      const hostQueue = await sandboxQueueFor(undefined);
      if (hostQueue !== TASK_QUEUES.sandbox) s.sandboxQueue = hostQueue;
      const wait = hostWaitFor(hostQueue, limits.hostWaitSeconds);
      const p = await onSandboxHost(hostQueue, wait, () => setup(hostQueue, wait).prepareCompetition({ runId: sessionId, task }));
      const described = await onSandboxHost(hostQueue, wait, () => setup(hostQueue, wait).describeCompetition({ task }));
      s.scoringSeconds = { full: p.spec.limits.wallSeconds, validate: p.spec.validateLimits.wallSeconds };
      s.title = p.spec.title;
      s.metric = { name: p.spec.metric.name, direction: p.spec.metric.direction };
      s.baseline = p.reference.baseline.score;
      s.reference = p.reference.reference.score;
      const observation: SessionObservation = { action: 'reset', ok: true, text: resetText(p, described.overview, limits), filesChanged: [] };
      const info = { ...stepInfo(0), task, title: p.spec.title, files: p.files, actions: SESSION_ACTIONS, metric: s.metric, baseline: s.baseline, reference: s.reference, rewardForm: limits.reward };
      const ref = await records.recordEnvStep({ record: { session: sessionId, task, step: 0, action: { action: 'reset', task }, observation, reward: 0, done: false, info, at: now() } });
      s.reset = { sessionId, observation, info: { ...info, record: ref.path } };
      s.status = 'ready';
    } catch (err) {
      s.status = 'failed';
      s.error = `cannot prepare competition "${task}": ${rootMessage(err)}`;
      upsertSearchAttributes([{ key: LAB_STATUS, value: 'failed' }]);
      await condition(allHandlersFinished);
      throw ApplicationFailure.nonRetryable(s.error, ENV_ERRORS.prepareFailed);
    }
  }

  const rotate = () => stepsHere >= limits.stepsPerExecution || workflowInfo().continueAsNewSuggested;
  while (!s.done) {
    const stepBefore = s.step;
    const woke = await condition(() => s.done || s.step !== stepBefore || (rotate() && !busy()), `${limits.idleSeconds}s`);
    if (!woke && !busy() && s.step === stepBefore) {
      s.done = true;
      s.endReason = 'idle';
      break;
    }
    if (!s.done && rotate()) {
      // Steps in flight finish (and their callers get their answers) in this execution.
      await condition(allHandlersFinished);
      if (!s.done) await continueAsNew<typeof envSession>({ task, limits, carried: s });
    }
  }
  s.status = 'done';
  await condition(allHandlersFinished);
  upsertSearchAttributes([{ key: LAB_STATUS, value: `done_${s.endReason}` }]);
  return view(s);

  async function runStep(action: SessionAction): Promise<EnvStepResult> {
    s.step += 1;
    const step = s.step;
    let observation: SessionObservation;
    let reward = 0;
    let done = false;
    let info: StepInfo = stepInfo(step);
    // The session's workspace and hidden split are on its host: a step that waits too long checks the host is there.
    const host = s.sandboxQueue ?? TASK_QUEUES.sandbox;
    const wait = hostWaitFor(host, limits.hostWaitSeconds);
    try {
      switch (action.action) {
        case 'request_info': {
          const d = await onSandboxHost(host, wait, () => setup(host, wait).describeCompetition({ task }));
          const text = action.topic === 'overview' ? d.overview : action.topic === 'data' ? d.data : metricText(d, s, limits);
          observation = { action: 'request_info', ok: true, text, filesChanged: [] };
          break;
        }
        case 'validate_code':
        case 'execute_code':
        case 'submit':
        case 'finish': {
          const split = action.action === 'submit' || action.action === 'finish' ? 'test' : 'dev';
          const mode = action.action === 'validate_code' ? 'validate' : 'full';
          const score = await onSandboxHost(host, wait, () => scorer(mode, wait).scoreCompetition({ runId: sessionId, task, split, mode }));
          info = { ...info, ...scoreInfo(score, mode, limits) };
          observation = { action: action.action, ok: score.status === 'scored', text: scoreText(score, mode), durationMs: Math.round(score.runtimeSeconds * 1000), ...(score.log ? { output: score.log } : {}), filesChanged: [] };
          if (mode === 'full') {
            reward = score.status === 'scored' ? rewardOf(score, limits) : limits.failureReward;
            if (score.status !== 'scored') info.reason = `${score.status}: ${score.reason ?? 'no reason given'}; reward ${limits.failureReward}`;
            const summary = { step, status: score.status, score: score.score, normalised: score.normalised, relativeImprovement: score.relativeImprovement, success: score.success, reason: score.reason };
            if (split === 'test') {
              s.final = summary;
              done = true;
              info.endReason = 'submitted';
            } else if (score.status === 'scored' && (s.bestDev?.normalised === undefined || (score.normalised ?? -Infinity) > s.bestDev.normalised)) {
              s.bestDev = summary;
            }
          }
          break;
        }
        default: {
          observation = await onSandboxHost(host, wait, () => sandbox(limits, host, wait).envStep({ runId: sessionId, step, action, limits: limits.sandbox }));
          if (!observation.ok && observation.error) info.reason = observation.error;
        }
      }
    } catch (err) {
      // The scorer or sandbox itself failed (after its retries): the agent sees it and may try again.
      const message = rootMessage(err);
      observation = { action: action.action, ok: false, text: `the ${action.action} step could not be carried out: ${message}`, error: message, filesChanged: [] };
      info.reason = `${action.action} failed: ${message}`;
      if (['execute_code', 'submit', 'finish'].includes(action.action)) reward = limits.failureReward;
      // The host and the session's workspace on it are gone: no later step could run either.
      if (isSandboxHostLost(err)) {
        done = true;
        info.endReason = 'sandbox_host_lost';
      }
    }
    if (!done && step >= limits.maxSteps) {
      done = true;
      info.truncated = true;
      info.endReason = 'max_steps';
    }
    info.stepsLeft = Math.max(0, limits.maxSteps - step);
    const ref = await records.recordEnvStep({ record: { session: sessionId, task, step, action, observation, reward, done, info, at: now() } satisfies EnvStepRecord });
    info.record = ref.path;
    s.lastAction = action.action;
    s.lastReward = reward;
    s.totalReward += reward;
    s.updatedAt = now();
    if (done) {
      s.done = true;
      s.endReason = info.endReason;
    }
    return { observation, reward, done, info };
  }

  function stepInfo(step: number): StepInfo {
    return { step, maxSteps: limits.maxSteps, stepsLeft: Math.max(0, limits.maxSteps - step) };
  }

  function scorer(mode: 'full' | 'validate', hostWait: number | undefined) {
    const seconds = s.scoringSeconds?.[mode] ?? 3600;
    return proxyActivities<CompetitionActivities>({
      summary: mode === 'validate' ? 'validate_code' : 'scoring',
      taskQueue: s.sandboxQueue ?? TASK_QUEUES.sandbox,
      // The scoring run's own limit is enforced in the sandbox; this is the outer bound.
      startToCloseTimeout: `${Math.ceil(seconds + 300)}s`,
      ...(hostWait ? { scheduleToStartTimeout: `${hostWait}s` } : {}),
      // The scorer heartbeats: a run lost with its worker is retried within a minute.
      heartbeatTimeout: '60s',
      retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidInput', 'ConfigError'] },
    });
  }
}

function sandbox(limits: EnvSessionLimits, taskQueue: string, hostWait: number | undefined) {
  const seconds = limits.sandbox.wallSeconds ?? 600;
  return proxyActivities<EnvironmentActivities>({
    summary: 'env step',
    taskQueue,
    startToCloseTimeout: `${Math.ceil(seconds + 120)}s`,
    ...(hostWait ? { scheduleToStartTimeout: `${hostWait}s` } : {}),
    heartbeatTimeout: '60s',
    retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidInput', 'ConfigError'] },
  });
}

function view(s: EnvSessionState): EnvSessionView {
  const { reset: _reset, last: _last, scoringSeconds: _seconds, sandboxQueue: _host, ...rest } = s;
  return rest;
}

function rewardOf(score: SubmissionScore, limits: EnvSessionLimits): number {
  return (limits.reward === 'raw' ? score.score : score.normalised) ?? limits.failureReward;
}

function scoreInfo(score: SubmissionScore, mode: 'full' | 'validate', limits: EnvSessionLimits): Partial<StepInfo> {
  return {
    split: score.split,
    mode,
    status: score.status,
    ...(score.reason ? { reason: score.reason } : {}),
    ...(score.score !== undefined ? { score: score.score } : {}),
    ...(score.normalised !== undefined ? { normalised: score.normalised } : {}),
    ...(score.relativeImprovement !== undefined ? { relativeImprovement: score.relativeImprovement } : {}),
    success: score.success,
    metric: score.metric,
    baseline: score.baseline,
    reference: score.reference,
    runtimeSeconds: score.runtimeSeconds,
    linesChanged: score.linesChanged,
    rewardForm: limits.reward,
  };
}

function scoreText(score: SubmissionScore, mode: 'full' | 'validate'): string {
  const better = `${score.metric.name}, ${score.metric.direction} is better`;
  const what = mode === 'validate' ? 'validation run (small sample, tight limits)' : `${score.split} split`;
  const lines: string[] = [];
  if (score.status === 'scored' && mode === 'validate') {
    lines.push(`validate_code: the code runs (${score.runtimeSeconds.toFixed(1)} s)${score.score !== undefined ? `; sample score ${fmt(score.score)} (${better})` : ''}`);
  } else if (score.status === 'scored') {
    lines.push(`${what}: ${score.metric.name} = ${fmt(score.score)} (${better})`);
    lines.push(`baseline ${fmt(score.baseline)}, reference ${fmt(score.reference)}: ${fmt(score.relativeImprovement)}% of the gap closed${score.success ? ' (success: at least 5%)' : ''}`);
    lines.push(`runtime ${score.runtimeSeconds.toFixed(1)} s, ${score.linesChanged} lines changed in methods/`);
  } else {
    lines.push(`${what}: ${score.status === 'invalid' ? 'INVALID submission' : 'the code failed'}: ${score.reason ?? 'no reason given'}`);
  }
  return lines.join('\n');
}

function resetText(p: PreparedCompetition, overview: string, limits: EnvSessionLimits): string {
  const { spec, reference } = p;
  return [
    `Competition: ${spec.title} (${p.task})`,
    `Metric: ${spec.metric.name}, ${spec.metric.direction} is better: ${spec.metric.description}`,
    `Baseline ${fmt(reference.baseline.score)} (${reference.baseline.method}); reference ${fmt(reference.reference.score)} (${reference.reference.method}, ${reference.reference.kind}).`,
    `Only ${spec.editable} may change. Steps: ${limits.maxSteps}. Actions: ${SESSION_ACTIONS.join(', ')}.`,
    '',
    overview.trim(),
    '',
    `Files in the workspace:\n${p.files.map((f) => `  ${f}`).join('\n')}`,
  ].join('\n');
}

function metricText(
  d: Awaited<ReturnType<CompetitionActivities['describeCompetition']>>,
  s: EnvSessionState,
  limits: EnvSessionLimits,
): string {
  const m = d.metric;
  return [
    `${m.name}: ${m.direction} is better. ${m.description}`,
    `Baseline ${fmt(s.baseline)}, reference ${fmt(s.reference)} (test split).`,
    `Reward (${limits.reward}): ${limits.reward === 'normalised' ? '(score - baseline) / (reference - baseline), 0 at the baseline, 1 at the reference' : 'the metric itself'}; execute_code scores the dev split, submit the hidden test split.`,
    `A full scoring run may take ${d.limits.wallSeconds} s and ${d.limits.memoryMb} MB; validate_code ${d.validateLimits.wallSeconds} s and ${d.validateLimits.memoryMb} MB.`,
  ].join('\n');
}

function fmt(x: number | undefined): string {
  if (x === undefined) return '?';
  return Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, '');
}

function rootMessage(err: unknown): string {
  let e = err as Error & { cause?: unknown };
  while (e instanceof ActivityFailure && e.cause) e = e.cause as Error & { cause?: unknown };
  return e?.message ?? String(err);
}
