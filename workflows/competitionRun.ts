/**
 * One agent's attempt at a competition task (MLRC-Bench style): set up the workspace with the
 * starter code and the development split, let the agent improve `methods/` in the same step loop
 * as the experiment stage (child `experimentRun`), then score the result on the hidden test split.
 * A submission that breaks the rules or does not run is a recorded outcome, not a failed workflow.
 */
import { ApplicationFailure, executeChild, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { CompetitionActivities } from '../activities/competition/index.js';
import type { CompetitionWriteupActivities } from '../activities/competitionWriteup.js';
import { competitionRunInputSchema, type CompetitionRunInput, type CompetitionRunResult } from '../common/competition.js';
import { isAutoModel, parseModelSpec } from '../common/modelSpec.js';
import { TASK_QUEUES } from '../common/queues.js';
import { ZERO_USAGE } from '../common/schemas.js';
import { LAB_KIND, LAB_MODEL, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { experimentRun } from './experimentRun.js';
import { chooseModel } from './preflight.js';
import { hostWaitFor, onSandboxHost, sandboxQueueFor } from './sandboxHost.js';

export async function competitionRun(raw: CompetitionRunInput): Promise<CompetitionRunResult> {
  const parsed = competitionRunInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid competition run input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidInput');
  }
  let input = parsed.data;
  try {
    if (!isAutoModel(input.model)) parseModelSpec(input.model);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`invalid competition run input: ${(err as Error).message}`, 'InvalidInput');
  }
  // `auto` is chosen by a worker, where the keys are (inputs recorded before this step never say `auto`, so they replay).
  const choice = isAutoModel(input.model) ? await chooseModel(input.budget) : undefined;
  if (choice) input = { ...input, model: choice.model };
  const runId = workflowInfo().workflowId;
  upsertSearchAttributes([
    { key: LAB_KIND, value: 'competition' },
    { key: LAB_TASK, value: input.task },
    { key: LAB_MODEL, value: input.model },
    { key: LAB_STATUS, value: 'running' },
  ]);
  if (choice?.problem) {
    upsertSearchAttributes([{ key: LAB_STATUS, value: 'failed' }]);
    throw ApplicationFailure.nonRetryable(choice.problem, 'PreflightFailed');
  }

  // The prepared workspace and hidden split stay on one sandbox host: preparing, the experiment and scoring all go there.
  const sandboxQueue = await sandboxQueueFor(undefined);
  // A lost host fails the run (SandboxHostLost) instead of leaving it waiting: the hidden split was there.
  const hostWait = hostWaitFor(sandboxQueue, input.limits.hostWaitSeconds);
  const onHost = <T>(step: () => Promise<T>) => onSandboxHost(sandboxQueue, hostWait, step);
  const sandbox = proxyActivities<CompetitionActivities>({
    taskQueue: sandboxQueue,
    // Preparing data and one scoring run stay well inside the task's own limits plus start-up.
    startToCloseTimeout: '30m',
    ...(hostWait ? { scheduleToStartTimeout: `${hostWait}s` } : {}),
    heartbeatTimeout: '2m',
    retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidInput', 'ConfigError'] },
  });
  const research = proxyActivities<CompetitionWriteupActivities>({
    taskQueue: TASK_QUEUES.research,
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 5 },
  });

  const prepared = await onHost(() => sandbox.prepareCompetition({ runId, task: input.task, ...(input.dataKey ? { dataKey: input.dataKey } : {}) }));
  const limits = { ...input.limits, sandbox: { ...input.limits.sandbox, wallSeconds: input.limits.sandbox.wallSeconds ?? prepared.spec.limits.wallSeconds * 2 } };
  const outcome = await executeChild(experimentRun, {
    workflowId: `${runId}-experiment`,
    args: [{ runId, model: input.model, reasoningEffort: input.reasoningEffort, task: prepared.taskRef, inputs: {}, limits, budgetLeft: input.budget, brief: 'competition', ...(sandboxQueue !== TASK_QUEUES.sandbox ? { sandboxQueue } : {}) }],
  });
  const score = await onHost(() => sandbox.scoreCompetition({ runId, task: input.task, split: 'test' }));
  const writeup = await research.writeCompetitionWriteup({ runId, task: input.task, title: prepared.spec.title, model: outcome.model, transcript: outcome.transcript });
  upsertSearchAttributes([{ key: LAB_STATUS, value: score.status }]);
  return {
    task: input.task,
    model: input.model,
    score,
    experiment: { end: outcome.end, steps: outcome.steps },
    documents: {
      task: prepared.taskRef,
      paper: writeup,
      log: outcome.log,
      code: outcome.files.filter((f) => f.path.includes('/experiment/code/methods/')),
      figures: [],
    },
    usage: outcome.usage ?? ZERO_USAGE,
  };
}
