/**
 * A benchmark sweep: every task × agent of a task set as a research run (child workflow), then
 * the reviews of its outputs (child workflows), at most `concurrency` items at once.
 *
 * One item's failure never stops the batch: it is counted, listed with its reason and its
 * workflow id, and can be retried alone (`lab bench retry`). Large sets continue as new every
 * `itemsPerExecution` items so history stays small; children finish before that happens, so
 * no result is lost across executions.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BenchActivities } from '../activities/bench/index.js';
import {
  benchItems,
  benchmarkInputSchema,
  MAX_LISTED_FAILURES,
  outputsSubject,
  type BenchFailure,
  type BenchItem,
  type BenchmarkConfig,
  type BenchmarkInput,
  type BenchProgress,
  type BenchResult,
  type BenchTally,
  type PreparedBench,
} from '../common/benchmark.js';
import { budgetAfter, splitBudget } from '../common/budget.js';
import { innermostMessage } from '../common/failures.js';
import { judgeSlug } from '../common/reviews.js';
import { addUsage, ZERO_USAGE, type Budget, type Usage } from '../common/schemas.js';
import { LAB_BENCH, LAB_KIND, LAB_MODEL, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { benchProgressQuery } from './definitions.js';
import { benchItem, type BenchItemInput } from './benchItem.js';
import { chooseModel, preflight } from './preflight.js';
import { isAutoModel } from '../common/modelSpec.js';

export async function benchmark(raw: BenchmarkInput): Promise<BenchResult> {
  const input = parseInput(raw);
  const benchId = workflowInfo().workflowId;
  const carried = input.carried;
  // `auto` among the agents or judges is chosen once, by a worker from its keys (the CLI may have
  // none), and the choice travels on through continue-as-new. Inputs recorded before never say `auto`.
  if (!carried && [...input.agents, ...input.judges].some(isAutoModel)) {
    const choice = await chooseModel(input.budget);
    if (choice.problem) throw ApplicationFailure.nonRetryable(choice.problem, 'InvalidInput');
    const resolve = (models: string[]) => [...new Set(models.map((m) => (isAutoModel(m) ? choice.model : m)))];
    input.agents = resolve(input.agents);
    input.judges = resolve(input.judges);
    raw = { ...raw, agents: input.agents, judges: input.judges };
  }
  upsertSearchAttributes([
    { key: LAB_KIND, value: 'benchmark' },
    { key: LAB_BENCH, value: benchId },
    { key: LAB_STATUS, value: 'running' },
  ]);
  const tally: BenchTally = carried?.tally ?? { done: 0, failed: 0, skipped: 0, spent: ZERO_USAGE, failures: [] };
  const progress: BenchProgress = {
    benchId,
    mode: input.mode,
    status: 'preparing',
    total: 0,
    done: tally.done,
    failed: tally.failed,
    skipped: tally.skipped,
    running: 0,
    inFlight: [],
    spent: tally.spent,
    budget: input.budget,
    startedAt: carried?.startedAt ?? new Date().toISOString(),
    executions: carried?.executions ?? 1,
    failures: tally.failures,
  };
  setHandler(benchProgressQuery, () => progress);

  const prepared = carried?.prepared ?? (await prepare(benchId, input));
  // Every model is checked once for the whole batch (key, endpoint, model name, sandbox), before any paid call.
  if (!carried) await preflightModels(input, prepared);
  const items = selectedItems(prepared, input);
  progress.total = items.length;
  progress.status = 'running';
  const skip = new Set(input.skip);

  // Decided once per execution, before the first item (see runItem).
  const inline = patched('bench-items-inline');
  const inFlight = new Map<string, Promise<void>>();
  let next = carried?.next ?? 0;
  let startedHere = 0;
  while (next < items.length && startedHere < input.itemsPerExecution) {
    await condition(() => inFlight.size < input.concurrency);
    const item = items[next++];
    if (skip.has(item.key)) {
      // Finished by an earlier execution of this benchmark (resume or retry): it is done.
      tally.done++;
      continue;
    }
    const share = budgetShare(input.budget, tally.spent, Math.min(input.concurrency, items.length - next + 1));
    if (share === 'spent') {
      tally.skipped++;
      continue;
    }
    startedHere++;
    const work = runItem(benchId, input, prepared, item, share, tally, inline).finally(() => {
      inFlight.delete(item.key);
      progress.inFlight = [...inFlight.keys()];
      sync(progress, tally, inFlight.size);
    });
    inFlight.set(item.key, work);
    progress.inFlight = [...inFlight.keys()];
    sync(progress, tally, inFlight.size);
  }
  // Every child finishes in this execution, so its result is counted before any continue-as-new.
  await Promise.all(inFlight.values());
  // Items swallow their own cancellation (they end as failed): a cancelled benchmark must still end as
  // cancelled, not complete or continue (histories recorded before this step replay without it).
  if (CancellationScope.current().consideredCancelled && patched('bench-cancel-stops')) throw new CancelledFailure('benchmark cancelled');
  if (next < items.length) {
    await continueAsNew<typeof benchmark>({
      ...raw,
      carried: { prepared, next, tally, startedAt: progress.startedAt, executions: progress.executions + 1 },
    });
  }
  progress.status = 'completed';
  upsertSearchAttributes([{ key: LAB_STATUS, value: tally.failed ? 'completed_with_failures' : 'completed' }]);
  return { benchId, total: items.length, done: tally.done, failed: tally.failed, skipped: tally.skipped, spent: tally.spent, failures: tally.failures };
}

/**
 * One item: its research (or competition) run and its reviews, each a child workflow. Items of
 * benchmarks started before `bench-items-inline` ran inside one `benchItem` child workflow per
 * item; that child added its own start, about six workflow tasks and a completion per item and
 * kept nothing apart that the runs and reviews, each its own workflow, do not. Now the benchmark
 * starts them itself (benchItem's code, run here), and recorded benchmarks replay as they ran.
 */
async function runItem(benchId: string, input: BenchmarkConfig, prepared: PreparedBench, item: BenchItem, budget: Budget, tally: BenchTally, inline: boolean): Promise<void> {
  const runId = itemRunId(benchId, item);
  const itemId = `${runId}.item`;
  try {
    const itemInput: BenchItemInput = {
      benchId,
      item,
      runId,
      mode: input.mode,
      stages: input.stages,
      reviews: input.reviews,
      judges: input.judges,
      stageTimeouts: input.stageTimeouts,
      ...(input.experiment ? { experiment: input.experiment } : {}),
      ...(input.mode === 'judge-only' ? { outputs: outputsSubject(prepared, item) } : {}),
      budget,
    };
    const result = inline
      ? await benchItem(itemInput)
      : await executeChild(benchItem, {
          workflowId: itemId,
          args: [itemInput],
          typedSearchAttributes: [
            { key: LAB_BENCH, value: benchId },
            { key: LAB_KIND, value: 'bench-item' },
            { key: LAB_TASK, value: item.task },
            { key: LAB_MODEL, value: item.agent },
          ],
          parentClosePolicy: ParentClosePolicy.TERMINATE,
        });
    addSpent(tally, result.spent);
    for (const f of result.failures) recordFailure(tally, item, f.part, f.reason, f.workflowId);
    if (result.failures.length) tally.failed++;
    else tally.done++;
  } catch (err) {
    // A cancelled benchmark stops: its items' cancellation is not an item failure to count and go on
    // from (histories recorded before this counted it).
    if (isCancellation(err) && patched('bench-cancel-stops')) throw err;
    // Inline, the item has no workflow of its own: the benchmark is where its failure happened.
    fail(tally, item, 'item', innermostMessage(err), inline ? benchId : itemId);
  }
}

/** Checks each agent and judge model once (and the sandbox and literature when the items need them). */
async function preflightModels(input: BenchmarkConfig, prepared: PreparedBench): Promise<void> {
  const sandbox = input.mode === 'competition' || (input.mode === 'end-to-end' && input.stages.includes('experiment'));
  const literature = input.mode !== 'judge-only' && input.mode !== 'competition' && input.stages.includes('literature');
  const agents = input.mode === 'judge-only' ? [] : prepared.agents;
  const checks = [
    ...agents.map((model) => ({ model, sandbox, literature })),
    ...input.judges.filter((j) => !agents.includes(j)).map((model) => ({ model, sandbox: false, literature: false })),
  ];
  const reports = await Promise.all(checks.map((c) => preflight(c)));
  const problems = reports.flatMap((r) => r.problems);
  if (problems.length) {
    throw ApplicationFailure.nonRetryable(`preflight found ${problems.length} problem(s); no item was started: ${problems.join('; ')}`, 'PreflightFailed');
  }
}

/** A plain, unique run id per item: `<benchId>.<task>.<agent>` (agent spec made a file name). */
export function itemRunId(benchId: string, item: Pick<BenchItem, 'task' | 'agent' | 'run'>): string {
  return `${benchId}.${item.task}.${judgeSlug(item.agent).slice(0, 60)}${item.run ? `.r${item.run}` : ''}`.slice(0, 200);
}

async function prepare(benchId: string, input: BenchmarkConfig): Promise<PreparedBench> {
  const { prepareBenchmark } = proxyActivities<BenchActivities>({
    taskQueue: 'research',
    // Long enough to rebuild an uploaded outputs folder (MLR-Bench's published one: 8,300 files, 88 MB) from the store.
    startToCloseTimeout: '10m',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidInput'] },
    summary: `resolve task set "${input.tasks}"`,
  });
  return prepareBenchmark({
    benchId,
    tasks: input.tasks,
    mode: input.mode,
    agents: input.agents,
    reviews: input.reviews,
    outputs: input.outputs,
    ...(input.outputsUpload ? { outputsUpload: input.outputsUpload } : {}),
    ...(input.storedTasks ? { storedTasks: input.storedTasks } : {}),
  });
}

function selectedItems(prepared: PreparedBench, input: BenchmarkConfig): BenchItem[] {
  const all = benchItems(prepared, input.mode === 'competition' ? input.runs : 1);
  if (!input.only) return all;
  const only = new Set(input.only);
  return all.filter((item) => only.has(item.key));
}

function fail(tally: BenchTally, item: BenchItem, part: string, reason: string, workflowId: string): void {
  recordFailure(tally, item, part, reason, workflowId);
  tally.failed++;
}

function recordFailure(tally: BenchTally, item: BenchItem, part: string, reason: string, workflowId: string): void {
  const failure: BenchFailure = { key: item.key, task: item.task, agent: item.agent, part, reason: reason.slice(0, 500), workflowId };
  tally.failures.push(failure);
  // Only the latest failures travel in history; every failed child stays visible in Temporal.
  if (tally.failures.length > MAX_LISTED_FAILURES) tally.failures.splice(0, tally.failures.length - MAX_LISTED_FAILURES);
}

function addSpent(tally: BenchTally, usage: Usage): void {
  tally.spent = addUsage(tally.spent, usage);
}

/** Items in flight share what is left of the budget; 'spent' when nothing is left. */
function budgetShare(budget: Budget, spent: Usage, ways: number): Budget | 'spent' {
  if (budget.usd === undefined && budget.tokens === undefined) return {};
  const left = budgetAfter(budget, spent);
  if ((left.usd !== undefined && left.usd <= 0) || (left.tokens !== undefined && left.tokens <= 0)) return 'spent';
  return splitBudget(left, ways);
}

function sync(progress: BenchProgress, tally: BenchTally, running: number): void {
  Object.assign(progress, { done: tally.done, failed: tally.failed, skipped: tally.skipped, spent: tally.spent, failures: tally.failures, running });
}

function parseInput(raw: BenchmarkInput): BenchmarkConfig {
  const parsed = benchmarkInputSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`invalid benchmark input: ${issues}`, 'InvalidInput');
  }
  if (parsed.data.mode !== 'judge-only' && !parsed.data.agents.length) {
    throw ApplicationFailure.nonRetryable('invalid benchmark input: give at least one agent model', 'InvalidInput');
  }
  if (parsed.data.mode === 'judge-only' && !parsed.data.outputs) {
    throw ApplicationFailure.nonRetryable('invalid benchmark input: judge-only mode needs the outputs folder', 'InvalidInput');
  }
  return parsed.data;
}

