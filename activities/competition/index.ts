/**
 * Competition activities (on the `sandbox` queue, where the workspaces are): set a run up for a
 * competition task, score its methods/ on the dev or the hidden test split, describe the task.
 * Layout, rules and the scorer: docs/competitions.md.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { type PreparedCompetition, type ScoreCompetitionInput, type SubmissionScore } from '../../common/competition.js';
import { isValidRunId, RUN_ID_RULE } from '../../common/runIds.js';
import type { ArtifactStore } from '../artifacts.js';
import { WorkspacePathError } from '../environment/workspace.js';
import { withHeartbeat } from '../heartbeat.js';
import { sandboxBackendFromEnv, SandboxConfigError, type ExecOptions, type SandboxBackend } from '../sandbox/index.js';
import { CompetitionError, loadCompetition, type CompetitionSpecFile } from './catalog.js';
import { assessSubmission } from './assess.js';
import { prepareRun } from './prepare.js';

export { CompetitionError, listCompetitions, loadCompetition, readCompetitionFolder, type CompetitionSummary, type CompetitionTask } from './catalog.js';
export { importMlrcTask, MlrcImportError, type MlrcImportOptions, type MlrcImportReport } from './mlrc.js';
export { assessSubmission } from './assess.js';
export { committedGap, gapForRun, type Gap } from './draws.js';
export { prepareRun, type PrepareOptions } from './prepare.js';
export { dataSecret } from './secrets.js';
export { DECOY_PATH, readDecoy, scoreRun, type RawScore } from './score.js';

export interface CompetitionDeps {
  store: ArtifactStore;
  /** Default: the backend `LAB_SANDBOX` names. */
  backend?: SandboxBackend;
}

/** What the environment's `request_info` shows. */
export interface CompetitionDescription {
  task: string;
  title: string;
  /** task.md */
  overview: string;
  data: string;
  metric: CompetitionSpecFile['metric'];
  limits: CompetitionSpecFile['limits'];
  validateLimits: CompetitionSpecFile['validateLimits'];
}

export function createCompetitionActivities({ store, backend = sandboxBackendFromEnv() }: CompetitionDeps) {
  return {
    /** Copies the starter code and the public data into the run's workspace, keeps the hidden split apart, stores task.md. */
    async prepareCompetition(input: { runId: string; task: string; dataKey?: string }): Promise<PreparedCompetition> {
      if (input.dataKey !== undefined && !isValidRunId(input.dataKey)) throw ApplicationFailure.nonRetryable(`invalid data key ${JSON.stringify(input.dataKey)}: ${RUN_ID_RULE}`, 'InvalidInput');
      return guarded(input.runId, { phase: 'prepare', task: input.task }, async (exec) => {
        const task = await loadCompetition(input.task);
        const { files } = await prepareRun({ runId: input.runId, task, backend, exec, ...(input.dataKey ? { dataKey: input.dataKey } : {}) });
        const taskRef = await store.put(input.runId, 'task.md', task.taskText, 'text/markdown');
        return { task: task.name, spec: task.spec, reference: task.reference!, taskRef, files };
      });
    },

    /** Scores the workspace's methods/: `scored`, `failed` (with the reason) or `invalid` (broke the rules); never throws for a bad submission. */
    async scoreCompetition(input: ScoreCompetitionInput): Promise<SubmissionScore> {
      if (input.split !== 'dev' && input.split !== 'test') throw ApplicationFailure.nonRetryable(`split must be dev or test, got ${JSON.stringify(input.split)}`, 'InvalidInput');
      const mode = input.mode ?? 'full';
      if (mode !== 'full' && mode !== 'validate') throw ApplicationFailure.nonRetryable(`mode must be full or validate, got ${JSON.stringify(mode)}`, 'InvalidInput');
      return guarded(input.runId, { phase: 'score', task: input.task, split: input.split, mode }, async (exec) => {
        const task = await loadCompetition(input.task);
        // Set against the baseline and reference on this run's own data draw (measured once per data key).
        const { raw, score } = await assessSubmission({ runId: input.runId, task, split: input.split, mode, backend, exec });
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const log = await store.put(input.runId, `competition/score-${input.split}${mode === 'validate' ? '-validate' : ''}-${stamp}.log`, raw.log, 'text/plain');
        return { ...score!, log };
      });
    },

    async describeCompetition(input: { task: string }): Promise<CompetitionDescription> {
      try {
        const task = await loadCompetition(input.task);
        const { spec } = task;
        return { task: task.name, title: spec.title, overview: task.taskText, data: spec.data, metric: spec.metric, limits: spec.limits, validateLimits: spec.validateLimits };
      } catch (err) {
        throw asFailure(err);
      }
    },
  };
}

export type CompetitionActivities = ReturnType<typeof createCompetitionActivities>;

/** Heartbeats and honours cancellation inside an activity; plain calls (scripts, tests) run as they are. */
async function guarded<T>(runId: string, details: Record<string, unknown>, work: (exec: ExecOptions) => Promise<T>): Promise<T> {
  if (!isValidRunId(runId)) throw ApplicationFailure.nonRetryable(`invalid run id ${JSON.stringify(runId)}: ${RUN_ID_RULE}`, 'InvalidInput');
  const ctx = activityContext();
  try {
    if (!ctx) return await work({});
    const result = await withHeartbeat(() => work({ signal: ctx.cancellationSignal }), () => ({ runId, ...details }));
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new CancelledFailure('cancelled');
    return result;
  } catch (err) {
    throw asFailure(err);
  }
}

function asFailure(err: unknown): unknown {
  if (err instanceof CompetitionError || err instanceof WorkspacePathError) return ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
  if (err instanceof SandboxConfigError) return ApplicationFailure.nonRetryable(err.message, 'ConfigError');
  return err;
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
