/**
 * The experiment stage as a child workflow: an agent loop shaped as an environment. Each step the
 * model (on its provider's LLM queue) sees an observation and picks one action; the action runs
 * on the `sandbox` queue and returns the next observation. Bounded by steps, wall time and
 * budget; continues as new every few steps so each history stays small; ends by collecting what
 * the code wrote into `results/`.
 */
import { ActivityFailure, ApplicationFailure, continueAsNew, defineQuery, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EnvironmentActivities } from '../activities/environment/index.js';
import type { ExperimentAgentActivities } from '../activities/experiment/agent.js';
import type { ResultsActivities } from '../activities/experiment/results.js';
import type { CodingAgentActivities } from '../activities/experiment/cliAgent.js';
import {
  experimentRunInputSchema,
  type ExperimentEnd,
  type ExperimentOutcome,
  type ExperimentProgress,
  type ExperimentRunInput,
  type ExperimentState,
  type LostHost,
} from '../common/experiment.js';
import { parseModelSpec } from '../common/modelSpec.js';
import { llmQueueFor, TASK_QUEUES } from '../common/queues.js';
import { budgetAfter } from '../common/budget.js';
import { addUsage, ZERO_USAGE } from '../common/schemas.js';
import { NON_RETRYABLE_STAGE_ERRORS } from '../common/errorTypes.js';
import { CODING_AGENT_DEFAULT_SECONDS } from '../common/limits.js';
import { finishRefusal, resultFilesAfter } from '../common/experimentSteering.js';
import { hostWaitFor, isSandboxHostLost, onSandboxHost, SANDBOX_HOST_LOST, sandboxQueueFor } from './sandboxHost.js';

export const experimentProgressQuery = defineQuery<ExperimentProgress>('experimentProgress');

/** Calls kept in the ledger carried across continue-as-new; usage totals count every call. */
const MAX_LEDGER = 50;

export async function experimentRun(raw: ExperimentRunInput): Promise<ExperimentOutcome> {
  const parsed = experimentRunInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid experiment input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidInput');
  }
  const input = parsed.data;
  const { limits } = input;
  let state: ExperimentState = input.state ?? { step: 0, startedAtMs: Date.now(), usage: ZERO_USAGE, calls: [], resultFiles: [] };
  const progress: ExperimentProgress = { step: state.step, maxSteps: limits.maxSteps };
  setHandler(experimentProgressQuery, () => progress);

  if (limits.agent?.kind === 'cli') return codingAgentCliRun(input, progress);

  const agent = proxyActivities<ExperimentAgentActivities>({
    summary: `experiment agent step with ${input.model}`,
    taskQueue: llmQueueFor(parseModelSpec(input.model).provider),
    startToCloseTimeout: '15m',
    heartbeatTimeout: '2m',
    retry: { initialInterval: '2s', maximumInterval: '2m', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_STAGE_ERRORS },
  });
  const commandSeconds = limits.sandbox.wallSeconds ?? 600;
  // Every step of the run goes to the host that holds its workspace.
  const host = await sandboxQueueFor(state.sandboxQueue ?? input.sandboxQueue);
  const lostHost = state.lostHost;
  // After a lost host: the host claimed now may be that same host, back with its workspace (go on where
  // the experiment stopped), or another one (start over there, from an empty workspace).
  const movedHost = lostHost !== undefined && host !== lostHost.queue;
  if (lostHost) state = movedHost ? startedOver(state, lostHost) : { ...state, lostHost: undefined };
  state.sandboxQueue = host;
  progress.step = state.step;
  const hostWait = hostWaitFor(host, limits.hostWaitSeconds);
  const sandbox = proxyActivities<EnvironmentActivities & ResultsActivities>({
    summary: 'sandbox',
    taskQueue: host,
    // A command's own wall limit is enforced inside the sandbox; this is the outer bound.
    startToCloseTimeout: `${Math.ceil(commandSeconds + 120)}s`,
    ...(hostWait ? { scheduleToStartTimeout: `${hostWait}s` } : {}),
    heartbeatTimeout: '60s',
    retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidInput', 'ConfigError'] },
  });
  if (state.hostsLost) progress.hostsLost = state.hostsLost;
  /** A step on the host; `carried` is the state to go on from should the host be lost during it. */
  const onHost = async <T>(step: () => Promise<T>, carried: () => ExperimentState): Promise<T> => {
    try {
      return await onSandboxHost(host, hostWait, step);
    } catch (err) {
      // A workspace the run made itself can be made again elsewhere; a parent's (a competition's prepared data) cannot.
      if (isSandboxHostLost(err) && !input.sandboxQueue) await claimAnotherHost(raw, carried(), host);
      throw err;
    }
  };
  // Started over: the workspace begins empty, even on a host that still holds an earlier attempt's.
  if (movedHost) await onHost(() => sandbox.emptyWorkspace({ runId: input.runId }), () => state);

  // Back on a host that was lost after the loop ended: only the results are left to collect.
  let end: ExperimentEnd | undefined = state.ended?.end;
  let summary: string | undefined = state.ended?.summary;
  if (state.ended) state = { ...state, ended: undefined };
  let stepsThisExecution = 0;
  while (!end) {
    const elapsedSeconds = (Date.now() - state.startedAtMs) / 1000;
    if (state.step >= limits.maxSteps) end = 'max_steps';
    else if (elapsedSeconds >= limits.wallSeconds) end = 'wall_time';
    if (end) break;
    if (stepsThisExecution >= limits.stepsPerSegment || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof experimentRun>({ ...raw, state });
    }
    let decision;
    try {
      decision = await agent.decideExperimentStep({
        runId: input.runId,
        step: state.step + 1,
        model: input.model,
        reasoningEffort: input.reasoningEffort,
        task: input.task,
        inputs: input.inputs,
        revision: input.revision,
        transcript: state.transcript,
        pending: state.pending,
        maxSteps: limits.maxSteps,
        secondsLeft: limits.wallSeconds - elapsedSeconds,
        budgetLeft: budgetAfter(input.budgetLeft, state.usage),
        ...(input.brief !== 'research' ? { brief: input.brief } : {}),
      });
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'BudgetExhausted') {
        end = 'budget';
        break;
      }
      throw err;
    }
    state.step += 1;
    stepsThisExecution += 1;
    state.transcript = decision.transcript;
    state.pending = undefined;
    state.usage = addUsage(state.usage, decision.usage);
    state.calls = [...state.calls, ...decision.calls].slice(-MAX_LEDGER);
    state.model = decision.model;
    progress.step = state.step;
    progress.lastAction = decision.action.action;

    if (decision.action.action === 'finish') {
      // A research experiment ends with results a command wrote: an early finish is refused (twice at most) while steps are left.
      const refusal =
        // (A state carried over from before this rule has no list: its finish is accepted as it was.)
        input.brief === 'research' && state.resultFiles && patched('finish-needs-results')
          ? finishRefusal({ resultFiles: state.resultFiles, refusals: state.finishRefusals ?? 0, stepsLeft: limits.maxSteps - state.step })
          : undefined;
      if (refusal) {
        state.finishRefusals = (state.finishRefusals ?? 0) + 1;
        state.pending = { thought: decision.thought, action: decision.action, observation: { action: 'finish', ok: false, text: refusal, error: refusal, filesChanged: [] } };
        progress.lastOutcome = 'finish refused';
        continue;
      }
      end = 'finished';
      summary = decision.action.summary;
      state.pending = { thought: decision.thought, action: decision.action, observation: { action: 'finish', ok: true, text: '', filesChanged: [] } };
      break;
    }
    const secondsLeft = Math.max(1, limits.wallSeconds - (Date.now() - state.startedAtMs) / 1000);
    const observation = await onHost(() =>
      sandbox.envStep({
        runId: input.runId,
        step: state.step,
        action: decision.action,
        limits: { ...limits.sandbox, wallSeconds: Math.min(commandSeconds, secondsLeft) },
      }),
      // The step's action never ran: back on this host, the agent decides this step again.
      () => ({ ...state, step: state.step - 1 }),
    );
    state.pending = { thought: decision.thought, action: decision.action, observation };
    if (state.resultFiles) state.resultFiles = resultFilesAfter(state.resultFiles, observation);
    progress.lastOutcome = observation.killedBy ? `killed: ${observation.killedBy}` : observation.exitCode !== undefined ? `exit ${observation.exitCode}` : observation.ok ? 'ok' : 'error';
  }
  progress.end = end;
  const results = await onHost(() =>
    sandbox.collectExperimentResults({
      runId: input.runId,
      step: state.step,
      transcript: state.transcript,
      pending: state.pending,
      end,
      summary,
      ...(input.brief !== 'research' ? { brief: input.brief } : {}),
      ...(state.hostsLost ? { hostsLost: state.hostsLost } : {}),
    }),
    () => ({ ...state, ended: { end: end!, ...(summary !== undefined ? { summary } : {}) } }),
  );
  return { ...results, end, usage: state.usage, calls: state.calls, model: state.model ?? input.model, ...(state.hostsLost ? { hostsLost: state.hostsLost } : {}) };
}

/** Hosts an experiment may lose before it gives up: each loss costs every step so far. */
const MAX_HOSTS_LOST = 2;

/**
 * The host that held the workspace stopped answering: continue as new to claim a host again. Any
 * live host answers the claim; the lost one only if it is back by then, workspace and all.
 */
async function claimAnotherHost(raw: ExperimentRunInput, state: ExperimentState, lost: string): Promise<void> {
  const losses = (state.hostsLost?.length ?? 0) + 1;
  if (losses > MAX_HOSTS_LOST) {
    throw ApplicationFailure.nonRetryable(`the experiment lost ${losses} sandbox hosts (${[...(state.hostsLost ?? []).map((h) => h.queue), lost].join(', ')}); it does not start over again`, SANDBOX_HOST_LOST);
  }
  log.warn('sandbox host lost; claiming a host again', { host: lost, atStep: state.step });
  await continueAsNew<typeof experimentRun>({ ...raw, state: { ...state, sandboxQueue: undefined, lostHost: { queue: lost, atStep: state.step } } });
}

/**
 * A new host holds none of the workspace: the experiment starts over there, keeping its usage and
 * calls (spent is spent) and a record of the loss, which results.md reports. Results only ever come
 * from the workspace that is collected.
 */
function startedOver(state: ExperimentState, lost: LostHost): ExperimentState {
  return {
    step: 0,
    startedAtMs: Date.now(),
    usage: state.usage,
    calls: state.calls,
    ...(state.model ? { model: state.model } : {}),
    ...(state.resultFiles ? { resultFiles: [] } : {}),
    hostsLost: [...(state.hostsLost ?? []), lost],
  };
}

/**
 * The optional backend (`limits.agent: { kind: 'cli', command }`): no step loop and no LLM call
 * here; one long command (an external coding-agent CLI) in the sandbox workspace, then the same
 * results collection as the loop.
 */
async function codingAgentCliRun(input: ReturnType<typeof experimentRunInputSchema.parse>, progress: ExperimentProgress): Promise<ExperimentOutcome> {
  const { limits } = input;
  const agent = limits.agent!;
  const commandLimits = {
    ...limits.sandbox,
    wallSeconds: Math.min(CODING_AGENT_DEFAULT_SECONDS, limits.wallSeconds),
    cpuSeconds: CODING_AGENT_DEFAULT_SECONDS,
    ...agent.limits,
  };
  const host = await sandboxQueueFor(input.sandboxQueue);
  // A lost host fails the run (SandboxHostLost) instead of leaving it waiting; the CLI session is not started over.
  const hostWait = hostWaitFor(host, limits.hostWaitSeconds);
  const sandbox = proxyActivities<CodingAgentActivities & ResultsActivities>({
    summary: 'coding agent CLI in the sandbox',
    taskQueue: host,
    // The command's wall limit is enforced inside the sandbox (plus the CLI check); this is the outer bound.
    startToCloseTimeout: `${Math.ceil(commandLimits.wallSeconds + 180)}s`,
    ...(hostWait ? { scheduleToStartTimeout: `${hostWait}s` } : {}),
    heartbeatTimeout: '60s',
    // A CLI session is long and pays its provider: one retry, only for a lost worker or the like.
    retry: { initialInterval: '10s', maximumAttempts: 2, nonRetryableErrorTypes: ['InvalidInput', 'ConfigError'] },
  });
  progress.maxSteps = 1;
  progress.lastAction = 'run';
  const ran = await onSandboxHost(host, hostWait, () =>
    sandbox.runCodingAgentCli({
      runId: input.runId,
      command: agent.command,
      task: input.task,
      inputs: input.inputs,
      revision: input.revision,
      limits: commandLimits,
    }),
  );
  const { observation } = ran;
  progress.step = 1;
  progress.lastOutcome = observation.killedBy ? `killed: ${observation.killedBy}` : `exit ${observation.exitCode}`;
  const end: ExperimentEnd = 'finished';
  progress.end = end;
  const results = await onSandboxHost(host, hostWait, () =>
    sandbox.collectExperimentResults({
      runId: input.runId,
      step: 1,
      pending: { thought: `coding agent CLI (instructions: ${ran.prompt.path})`, action: ran.action, observation },
      end,
    }),
  );
  return { ...results, end, usage: ZERO_USAGE, calls: [], model: `cli: ${agent.command.length > 80 ? `${agent.command.slice(0, 80)}...` : agent.command}` };
}
