/**
 * The research run: one task through idea → literature → proposal → experiment → paper.
 *
 * Deterministic orchestration only. Each stage is one activity on its provider's LLM queue that
 * reads its inputs from the artifact store and returns a reference to what it wrote,
 * so history stays small. Gated stages wait for a `review` update.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ArtifactActivities } from '../activities/artifactActivities.js';
// Pure constants (only @temporalio/common beside them), safe in the workflow bundle.
import type { StageActivities } from '../activities/stages/index.js';
import type { StageActivityInput } from '../activities/types.js';
import { isAutoModel, parseModelSpec } from '../common/modelSpec.js';
import { llmQueueFor, TASK_QUEUES } from '../common/queues.js';
import {
  addUsage,
  researchRunInputSchema,
  reviewDecisionSchema,
  ZERO_USAGE,
  type ArtifactRef,
  type Budget,
  type ResearchRunConfig,
  type ResearchRunInput,
  type ResearchRunResult,
  type StoredRunConfig,
  type ReviewDecision,
  type ReviewOutcome,
  type RunMemo,
  type RunProgress,
  type RunStatus,
  type StageName,
  type StageOutcome,
  type StageProgress,
} from '../common/schemas.js';
import { budgetAfter } from '../common/budget.js';
import { LAB_MODEL, LAB_STAGE, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { STAGE_INPUTS, STAGES } from '../common/stages.js';
import { progressQuery, reviewUpdate, type GateDecision, type GateRef } from './definitions.js';
import { NON_RETRYABLE_STAGE_ERRORS } from '../common/errorTypes.js';
import { chooseModel, preflight } from './preflight.js';
import { STAGE_RUNNERS } from './stages.js';

export { NON_RETRYABLE_STAGE_ERRORS };

export async function researchRun(rawInput: ResearchRunInput): Promise<ResearchRunResult> {
  const parsed = parseInput(rawInput);
  const run = new RunState(parsed);
  setHandler(progressQuery, () => run.progress);
  setHandler(reviewUpdate, (decision) => run.decide(decision), {
    validator: (decision) => run.validateDecision(decision),
  });
  // A task given as text goes into the store first (inputs that carry a stored reference schedule nothing here, so they replay).
  let input = await withStoredTask(parsed);
  // `auto` is chosen by a worker, where the keys are (inputs recorded before this step never say `auto`, so they replay).
  let unusableChoice: string | undefined;
  if (isAutoModel(input.model)) {
    const choice = await chooseModel(input.budget);
    input = { ...input, model: choice.model };
    run.progress.model = choice.model;
    unusableChoice = choice.problem;
  }

  const activityOptions = {
    // One queue per provider, so each provider's rate and concurrency are capped separately.
    taskQueue: llmQueueFor(parseModelSpec(input.model).provider),
    startToCloseTimeout: `${input.stageTimeouts.startToCloseSeconds}s`,
    heartbeatTimeout: `${input.stageTimeouts.heartbeatSeconds}s`,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '2m',
      maximumAttempts: input.stageTimeouts.maxAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_STAGE_ERRORS,
    },
  } as const;
  /** The stage activity, labelled for the Temporal UI's event list. */
  const runStage = (stage: StageName, revision?: number) =>
    proxyActivities<StageActivities>({
      ...activityOptions,
      summary: `${stage}${revision ? ` (revision ${revision})` : ''} with ${input.model}`,
    }).runStage;

  upsertSearchAttributes([
    { key: LAB_TASK, value: input.task.name },
    { key: LAB_MODEL, value: input.model },
    { key: LAB_STATUS, value: 'running' },
  ]);
  if (unusableChoice) {
    // A USD budget the chosen model's price cannot enforce: refused before any paid call, as the CLI refuses a named model.
    run.progress.preflight = { problems: [unusableChoice], warnings: [] };
    run.failPreflight();
    throw ApplicationFailure.nonRetryable(`preflight found 1 problem(s): ${unusableChoice}`, 'PreflightFailed');
  }
  // Check everything the run will need before its first paid call (runs recorded before this step replay without it).
  if (!input.skipPreflight && patched('preflight')) {
    const report = await preflight({ model: input.model, sandbox: willRun(input, 'experiment'), literature: willRun(input, 'literature') });
    run.progress.preflight = report;
    if (report.problems.length) {
      run.failPreflight();
      throw ApplicationFailure.nonRetryable(`preflight found ${report.problems.length} problem(s): ${report.problems.join('; ')}`, 'PreflightFailed');
    }
  }
  if (input.resumedFrom) {
    upsertMemo({ resumedFrom: input.resumedFrom } satisfies Partial<RunMemo>);
    // Runs recorded before this step existed replay without it.
    if (patched('copy-reused-artifacts')) await copyReusedArtifacts(input);
  }

  for (const stage of STAGES) {
    const reused = input.reuse[stage];
    if (reused) {
      run.markReused(stage, reused);
      continue;
    }
    const stop = run.budgetStop(stage);
    if (stop) return run.finish('budget_exhausted', stage, stop);

    let revision: { feedback: string; previous: ArtifactRef; number: number } | undefined;
    for (;;) {
      run.startStage(stage);
      let outcome: StageOutcome;
      const runner = STAGE_RUNNERS[stage];
      const stageInput: StageActivityInput = {
        runId: workflowInfo().workflowId,
        stage,
        model: input.model,
        reasoningEffort: input.reasoningEffort,
        task: input.task,
        inputs: run.inputsFor(stage),
        ...run.evidenceFor(stage),
        revision,
        budgetLeft: run.budgetLeft(),
      };
      try {
        // Each multi-step stage is behind a patch marker, so runs recorded with the single-call stage still replay.
        outcome =
          runner && patched(`stage-runner-${stage}`)
            ? await runner({
                runId: stageInput.runId,
                stage,
                model: input.model,
                reasoningEffort: input.reasoningEffort,
                task: input.task,
                inputs: run.outcomesFor(stage),
                revision,
                budgetLeft: run.budgetLeft(),
                experimentLimits: input.experiment,
                llmActivityOptions: activityOptions,
                runStage: runStage(stage, revision?.number),
                stageInput,
              })
            : await runStage(stage, revision?.number)(stageInput);
      } catch (err) {
        const cause = err instanceof ActivityFailure || err instanceof ChildWorkflowFailure ? err.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type === 'BudgetExhausted') {
          run.resetStage(stage);
          return run.finish('budget_exhausted', stage, cause.message);
        }
        run.failStage(stage);
        throw err;
      }
      run.completeStage(stage, outcome);
      if (!input.gates.stages.includes(stage)) break;

      const decision = await run.waitForReview(stage, outcome.artifact);
      if (decision.action === 'approve') break;
      if (decision.action === 'reject') {
        return run.finish('rejected', stage, decision.feedback ? `rejected: ${decision.feedback}` : 'rejected at review');
      }
      revision = { feedback: decision.feedback, previous: outcome.artifact, number: run.revisionsOf(stage) };
    }
    run.approveStage(stage);
    if (input.stopAfter === stage) break;
  }
  return run.finish('completed');
}

/** Whether `stage` is part of this run: not reused and not after the stage the run stops at. */
function willRun(input: StoredRunConfig, stage: StageName): boolean {
  if (input.reuse[stage]) return false;
  return !input.stopAfter || STAGES.indexOf(stage) <= STAGES.indexOf(input.stopAfter);
}

/** A resumed run's folder gets readable copies of the task and of every stage output it reuses. */
async function copyReusedArtifacts(input: StoredRunConfig): Promise<void> {
  const refs = [input.task.ref];
  for (const stage of STAGES) {
    const reused = input.reuse[stage];
    if (reused) refs.push(reused.artifact, ...reused.extra);
  }
  const { copyArtifactsToRun } = proxyActivities<ArtifactActivities>({
    taskQueue: TASK_QUEUES.research,
    startToCloseTimeout: '2m',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput'] },
    summary: `copy ${refs.length} reused artifacts from ${input.resumedFrom}`,
  });
  await copyArtifactsToRun({ runId: workflowInfo().workflowId, refs });
}

/** The run's settings with its task in the store: as given, or stored now by an activity on the research queue. */
async function withStoredTask(input: ResearchRunConfig): Promise<StoredRunConfig> {
  if ('ref' in input.task) return { ...input, task: input.task };
  const { storeTaskText } = proxyActivities<ArtifactActivities>({
    taskQueue: TASK_QUEUES.research,
    startToCloseTimeout: '2m',
    retry: { maximumAttempts: 10 },
    summary: `store the task ${input.task.name}`,
  });
  const ref = await storeTaskText({ runId: workflowInfo().workflowId, text: input.task.text });
  return { ...input, task: { name: input.task.name, ref } };
}

function parseInput(raw: ResearchRunInput): ResearchRunConfig {
  const parsed = researchRunInputSchema
    .superRefine((value, ctx) => {
      try {
        if (!isAutoModel(value.model)) parseModelSpec(value.model);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['model'], message: (err as Error).message });
      }
    })
    .safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`invalid research run input: ${issues}`, 'InvalidInput');
  }
  return parsed.data;
}

/** All mutable state of one run, with the bookkeeping that keeps progress, memo and search attributes in step. */
class RunState {
  readonly progress: RunProgress;
  private readonly outcomes: Partial<Record<StageName, StageOutcome>> = {};
  private readonly revisions: Partial<Record<StageName, number>> = {};
  private decision: ReviewDecision | undefined;

  constructor(private readonly input: ResearchRunConfig) {
    this.progress = {
      task: input.task.name,
      model: input.model,
      status: 'running',
      stages: STAGES.map((stage): StageProgress => ({ stage, status: 'pending', runs: 0, usage: ZERO_USAGE })),
      totals: ZERO_USAGE,
      lineageTotals: input.priorUsage,
      budget: input.budget,
      resumedFrom: input.resumedFrom,
      startedAt: now(),
    };
  }

  private stageProgress(stage: StageName): StageProgress {
    return this.progress.stages.find((s) => s.stage === stage)!;
  }

  private setStatus(status: RunStatus): void {
    this.progress.status = status;
    upsertSearchAttributes([{ key: LAB_STATUS, value: status }]);
  }

  /** The artifacts of the earlier stages `stage` reads. */
  inputsFor(stage: StageName): Partial<Record<StageName, ArtifactRef>> {
    return Object.fromEntries(Object.entries(this.outcomesFor(stage)).map(([name, outcome]) => [name, outcome!.artifact]));
  }

  /** Earlier stages' whole outcomes, for stages orchestrated in the workflow. */
  outcomesFor(stage: StageName): Partial<Record<StageName, StageOutcome>> {
    const out: Partial<Record<StageName, StageOutcome>> = {};
    for (const needed of STAGE_INPUTS[stage]) if (this.outcomes[needed]) out[needed] = this.outcomes[needed];
    return out;
  }

  /** What the paper reads besides the documents: the experiment's files and the ones that count as measured. */
  evidenceFor(stage: StageName): { attachments?: ArtifactRef[]; sources?: ArtifactRef[] } {
    if (stage !== 'paper') return {};
    const { literature, experiment } = this.outcomes;
    return { attachments: [...(literature?.extra ?? []), ...(experiment?.extra ?? [])], sources: experiment?.sources ?? [] };
  }

  revisionsOf(stage: StageName): number {
    return this.revisions[stage] ?? 0;
  }

  markReused(stage: StageName, outcome: StageOutcome): void {
    this.outcomes[stage] = outcome;
    Object.assign(this.stageProgress(stage), { status: 'reused', artifact: outcome.artifact, model: outcome.model, checks: outcome.checks });
    this.remember(stage, outcome);
  }

  startStage(stage: StageName): void {
    const p = this.stageProgress(stage);
    p.status = 'running';
    p.runs += 1;
    p.startedAt ??= now();
    p.runStartedAt = now();
    this.progress.currentStage = stage;
    upsertSearchAttributes([{ key: LAB_STAGE, value: stage }]);
  }

  resetStage(stage: StageName): void {
    this.stageProgress(stage).status = 'pending';
  }

  failPreflight(): void {
    this.setStatus('failed');
    for (const p of this.progress.stages) p.status = 'skipped';
  }

  failStage(stage: StageName): void {
    this.stageProgress(stage).status = 'failed';
    this.setStatus('failed');
  }

  completeStage(stage: StageName, outcome: StageOutcome): void {
    this.outcomes[stage] = outcome;
    const p = this.stageProgress(stage);
    // finishedAt marks the end of the stage's own work; time spent waiting at its gate is not counted.
    const workMs = (p.workMs ?? 0) + (p.runStartedAt ? Date.now() - Date.parse(p.runStartedAt) : 0);
    Object.assign(p, { artifact: outcome.artifact, model: outcome.model, usage: addUsage(p.usage, outcome.usage), finishedAt: now(), workMs, checks: outcome.checks });
    this.progress.totals = addUsage(this.progress.totals, outcome.usage);
    if (this.input.priorUsage) this.progress.lineageTotals = addUsage(this.input.priorUsage, this.progress.totals);
  }

  approveStage(stage: StageName): void {
    const p = this.stageProgress(stage);
    p.status = 'done';
    this.remember(stage, this.outcomes[stage]!);
  }

  /** The memo lets `lab resume` find finished stages from a closed run without a worker. */
  private remember(stage: StageName, outcome: StageOutcome): void {
    upsertMemo({ completed: { ...this.completedSoFar(), [stage]: outcome }, spent: this.progress.totals } satisfies Partial<RunMemo>);
  }

  private completedSoFar(): Partial<Record<StageName, StageOutcome>> {
    const done: Partial<Record<StageName, StageOutcome>> = {};
    for (const p of this.progress.stages) {
      if ((p.status === 'done' || p.status === 'reused') && this.outcomes[p.stage]) done[p.stage] = this.outcomes[p.stage];
    }
    return done;
  }

  budgetLeft(): Budget {
    return budgetAfter(this.input.budget, this.progress.totals);
  }

  /** A reason to stop before `stage` if the budget is already spent. */
  budgetStop(stage: StageName): string | undefined {
    const left = this.budgetLeft();
    if (left.usd !== undefined && left.usd <= 0) return `USD budget of ${this.input.budget.usd} spent before ${stage}`;
    if (left.tokens !== undefined && left.tokens <= 0) return `token budget of ${this.input.budget.tokens} spent before ${stage}`;
    return undefined;
  }

  async waitForReview(stage: StageName, artifact: ArtifactRef): Promise<ReviewDecision> {
    const { timeoutSeconds, onTimeout, maxRevisions } = this.input.gates;
    this.stageProgress(stage).status = 'awaiting_review';
    this.progress.pendingGate = {
      stage,
      since: now(),
      artifact,
      revisionsUsed: this.revisionsOf(stage),
      maxRevisions,
      decidesAt: timeoutSeconds ? new Date(Date.now() + timeoutSeconds * 1000).toISOString() : undefined,
      onTimeout: timeoutSeconds ? onTimeout : undefined,
    };
    this.setStatus('awaiting_review');
    this.decision = undefined;

    let decision: ReviewDecision;
    if (timeoutSeconds === undefined) {
      await condition(() => this.decision !== undefined);
      decision = this.decision!;
    } else {
      const decided = await condition(() => this.decision !== undefined, `${timeoutSeconds}s`, {
        summary: `review gate after ${stage} (${onTimeout} on timeout)`,
      });
      decision = decided ? this.decision! : { action: onTimeout, feedback: `gate timed out after ${timeoutSeconds}s` };
    }
    this.progress.pendingGate = undefined;
    this.decision = undefined;
    if (decision.action === 'revise') {
      this.revisions[stage] = this.revisionsOf(stage) + 1;
      this.stageProgress(stage).lastFeedback = decision.feedback;
    }
    if (decision.action !== 'reject') this.setStatus('running');
    return decision;
  }

  /**
   * Update validator: rejected updates leave no trace in history (validators do not run on replay,
   * so refusing more here needs no patch marker). A decision that names a gate must name the open one.
   */
  validateDecision(raw: GateDecision): void {
    const gate = this.progress.pendingGate;
    if (!gate || this.decision) throw new Error(NO_GATE_WAITING);
    const named = raw?.gate;
    if (named !== undefined) {
      if (typeof named !== 'object' || !named || !STAGES.includes(named.stage) || (named.revision !== undefined && !(Number.isInteger(named.revision) && named.revision >= 0))) {
        throw new Error('gate must name a stage and, optionally, a revision (a whole number ≥ 0)');
      }
      if (named.stage !== gate.stage || (named.revision !== undefined && named.revision !== gate.revisionsUsed)) {
        const open: GateRef = { stage: gate.stage, revision: gate.revisionsUsed };
        throw new Error(`the gate you named (${describeGate(named)}) is not open; the open gate is ${describeGate(open)}`);
      }
    }
    const parsed = reviewDecisionSchema.safeParse(raw);
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
    if (parsed.data.action === 'revise' && gate.revisionsUsed >= gate.maxRevisions) {
      throw new Error(`stage ${gate.stage} has used all ${gate.maxRevisions} revisions; approve or reject it`);
    }
  }

  decide(raw: ReviewDecision): ReviewOutcome {
    const decision = reviewDecisionSchema.parse(raw);
    const stage = this.progress.pendingGate!.stage;
    this.decision = decision;
    const nextStage = STAGES[STAGES.indexOf(stage) + 1];
    const next =
      decision.action === 'approve'
        ? nextStage
          ? `continuing with ${nextStage}`
          : 'finishing the run'
        : decision.action === 'revise'
          ? `re-running ${stage} with your feedback (revision ${this.revisionsOf(stage) + 1} of ${this.input.gates.maxRevisions})`
          : 'run ends as rejected; its artifacts are kept';
    return { stage, action: decision.action, next };
  }

  finish(status: ResearchRunResult['status'], stoppedAt?: StageName, reason?: string): ResearchRunResult {
    if (stoppedAt && status === 'rejected') this.stageProgress(stoppedAt).status = 'rejected';
    // Stages after an early stop, or after the stage a stepwise run ends at, never ran.
    for (const p of this.progress.stages) if (p.status === 'pending' && (status !== 'completed' || this.input.stopAfter)) p.status = 'skipped';
    this.progress.currentStage = undefined;
    this.setStatus(status);
    const artifacts: Partial<Record<StageName, ArtifactRef>> = {};
    for (const [stage, outcome] of Object.entries(this.outcomes)) artifacts[stage as StageName] = outcome.artifact;
    const experimentFiles = this.outcomes.experiment?.extra;
    return { status, artifacts, ...(experimentFiles?.length ? { experimentFiles } : {}), totals: this.progress.totals, stoppedAt, reason };
  }
}

const NO_GATE_WAITING = 'no stage is waiting for review in this run';

/** `idea` (any version), `idea, revision 0` (its first version), `idea, revision 2`. */
function describeGate(g: GateRef): string {
  return g.revision === undefined ? g.stage : `${g.stage}, revision ${g.revision}`;
}

/** Workflow time: deterministic, taken from history. */
function now(): string {
  return new Date().toISOString();
}
