/**
 * Stages whose work is more than one LLM call, orchestrated here (deterministic code only):
 * literature (queries → search → rank and write → citation check), the experiment (a child
 * workflow: agent loop + sandbox), and the paper (write → citation check). Stages not listed
 * run as the single `runStage` activity on their provider's LLM queue.
 */
import { executeChild, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { LiteratureRunActivities } from '../activities/literature/runActivities.js';
import type { LiteratureStageActivities } from '../activities/stages/literature.js';
import type { StageActivityInput } from '../activities/types.js';
import type { ExperimentOutcome } from '../common/experiment.js';
import type { ExperimentLimits } from '../common/limits.js';
import { TASK_QUEUES } from '../common/queues.js';
import { budgetAfter } from '../common/budget.js';
import { addUsage, type ArtifactRef, type Budget, type StageName, type StageOutcome } from '../common/schemas.js';
import { experimentRun } from './experimentRun.js';

export interface StageContext {
  runId: string;
  stage: StageName;
  model: string;
  reasoningEffort?: 'low' | 'medium' | 'high';
  task: { name: string; ref: ArtifactRef };
  /** Earlier stages' outcomes this stage reads. */
  inputs: Partial<Record<StageName, StageOutcome>>;
  revision?: { feedback: string; previous: ArtifactRef; number: number };
  budgetLeft: Budget;
  experimentLimits?: ExperimentLimits;
  /** Timeouts and retries of the stage's LLM activities (the run's stage policy). */
  llmActivityOptions: ActivityOptions;
  /** The single-call stage activity, as the run schedules it. */
  runStage: (input: StageActivityInput) => Promise<StageOutcome>;
  /** The activity input `runStage` takes for this stage. */
  stageInput: StageActivityInput;
}

export type StageRunner = (ctx: StageContext) => Promise<StageOutcome>;

/** The experiment: a child workflow with a deterministic id, so a retried parent finds the same child. */
export const runExperimentStage: StageRunner = async (ctx) => {
  const inputs: Record<string, ArtifactRef> = {};
  for (const stage of ['idea', 'proposal'] as const) {
    const done = ctx.inputs[stage];
    if (done) inputs[stage] = done.artifact;
  }
  const result: ExperimentOutcome = await executeChild(experimentRun, {
    workflowId: `${ctx.runId}-experiment${ctx.revision ? `-r${ctx.revision.number}` : ''}`,
    taskQueue: TASK_QUEUES.research,
    staticSummary: `experiment of ${ctx.runId}${ctx.revision ? ` (revision ${ctx.revision.number})` : ''} with ${ctx.model}`,
    args: [
      {
        runId: ctx.runId,
        model: ctx.model,
        reasoningEffort: ctx.reasoningEffort,
        task: ctx.task.ref,
        inputs,
        revision: ctx.revision,
        limits: ctx.experimentLimits,
        budgetLeft: ctx.budgetLeft,
      },
    ],
  });
  return {
    artifact: result.results,
    extra: [result.log, ...(result.transcript ? [result.transcript] : []), ...result.files],
    sources: result.measured,
    usage: result.usage,
    model: result.model,
    calls: result.calls,
    checks: {
      experiment: { status: result.status, reason: result.reason, end: result.end, steps: result.steps, commands: result.commands },
      provenance: result.provenance,
    },
  };
};

/** Search and citation checks: rate-limited on their own queue, retried through 429s. */
const literatureActivities = (summary: string) =>
  proxyActivities<LiteratureRunActivities>({
    summary,
    taskQueue: TASK_QUEUES.literature,
    startToCloseTimeout: '10m',
    heartbeatTimeout: '2m',
    retry: { initialInterval: '2s', maximumInterval: '2m', maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput', 'ConfigError'] },
  });

export const runLiteratureStage: StageRunner = async (ctx) => {
  const idea = ctx.inputs.idea;
  if (!idea) return ctx.runStage(ctx.stageInput);
  const llm = proxyActivities<LiteratureStageActivities>({ ...ctx.llmActivityOptions, summary: `literature with ${ctx.model}` });
  const step = { runId: ctx.runId, model: ctx.model, reasoningEffort: ctx.reasoningEffort, task: ctx.task.ref, idea: idea.artifact, revision: ctx.revision };
  const plan = await llm.planLiteratureSearch({ ...step, budgetLeft: ctx.budgetLeft });
  const search = await literatureActivities(`literature search: ${plan.queries.length} queries`).searchLiteratureForRun({ runId: ctx.runId, queries: plan.queries, perQuery: 8 });
  const written = await llm.writeRelatedWork({ ...step, budgetLeft: budgetAfter(ctx.budgetLeft, plan.outcome.usage), candidates: search.candidates, backends: search.backends });
  const usage = addUsage(plan.outcome.usage, written.usage);
  const references = written.extra[0];
  const cited = written.checks?.literature?.cited ?? 0;
  const citations = cited ? await literatureActivities('citation check: related work').checkCitationsOf({ runId: ctx.runId, document: written.artifact, references, name: 'related_work' }) : undefined;
  return {
    ...written,
    artifact: citations?.document ?? written.artifact,
    extra: citations ? [...written.extra, citations.report] : written.extra,
    usage,
    calls: [...plan.outcome.calls, ...written.calls],
    checks: { ...written.checks, ...(citations ? { citations: { checked: citations.checked, verified: citations.verified, flagged: citations.flagged } } : {}) },
  };
};

/** The paper is one LLM call (with its provenance check inside); then its citations are checked. */
export const runPaperStage: StageRunner = async (ctx) => {
  const outcome = await ctx.runStage(ctx.stageInput);
  const references = ctx.inputs.literature?.extra.find((r) => r.path.endsWith('/references.json'));
  if (!references) return outcome;
  const citations = await literatureActivities('citation check: paper').checkCitationsOf({ runId: ctx.runId, document: outcome.artifact, references, name: 'paper' });
  return {
    ...outcome,
    artifact: citations.document ?? outcome.artifact,
    extra: [...outcome.extra, citations.report],
    checks: { ...outcome.checks, citations: { checked: citations.checked, verified: citations.verified, flagged: citations.flagged } },
  };
};

export const STAGE_RUNNERS: Partial<Record<StageName, StageRunner>> = {
  literature: runLiteratureStage,
  experiment: runExperimentStage,
  paper: runPaperStage,
};
