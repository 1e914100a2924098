/**
 * Benchmarks: task sets × agent models, each item a research run (or existing outputs) judged by
 * one or more judges. Pure schemas and helpers shared by the workflow, its activities and the CLI.
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';
import { reviewKindSchema, type ReviewKind } from './reviews.js';
import { experimentLimitsSchema } from './limits.js';
import { artifactRefSchema, budgetSchema, stageNameSchema, stageTimeoutsSchema, usageSchema, type StageName, type Usage } from './schemas.js';
import { STAGES } from './stages.js';

export const BENCH_MODES = ['stepwise', 'end-to-end', 'judge-only', 'competition'] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

export const benchmarkInputSchema = sharedSchema('benchmark.benchmarkInputSchema', () => z.object({
  /** The task set as given to `lab bench --tasks` (names, globs, filters); resolved on a worker unless `storedTasks` carries it. */
  tasks: z.string().min(1),
  /**
   * The task set as the CLI resolved it, each task's text put in the store: the workers need not
   * have the tasks (a folder only on the CLI's host, tasks imported there). Not for competitions,
   * whose data and hidden splits live with the workers.
   */
  storedTasks: z.array(z.object({ name: z.string().min(1), ref: artifactRefSchema })).min(1).max(5000).optional(),
  mode: z.enum(BENCH_MODES),
  /** Agent model specs (not used in judge-only mode, where the agents are the outputs' authors). */
  agents: z.array(z.string().min(1)).default([]),
  judges: z.array(z.string().min(1)).min(1).max(8),
  /** Stepwise: the stages the agent runs (`idea`, or `idea,literature,proposal`); end-to-end: all. */
  stages: z.array(stageNameSchema).default([...STAGES]),
  /** The review kinds each item gets. */
  reviews: z.array(reviewKindSchema).min(1),
  /** Judge-only mode: a folder of published MLR-Bench outputs (`ideas_and_proposals/<task>/...`) or of run folders. */
  outputs: z.string().optional(),
  /** Judge-only mode: the outputs folder as the CLI uploaded it through the store (its manifest); `outputs` then only names it. */
  outputsUpload: artifactRefSchema.optional(),
  /** Competition mode: attempts per task and agent (MLRC-Bench reports the best of several). */
  runs: z.number().int().min(1).max(20).default(1),
  /** Items (research run + its reviews) in flight at once. */
  concurrency: z.number().int().min(1).max(256).default(4),
  /** Whole benchmark's budget; every run and review is given a share of what is left. */
  budget: budgetSchema.default({}),
  stageTimeouts: stageTimeoutsSchema.default({ startToCloseSeconds: 1800, heartbeatSeconds: 60, maxAttempts: 5 }),
  experiment: experimentLimitsSchema.optional(),
  /** Items already finished by an earlier execution of this benchmark (resume, retry): skipped. */
  skip: z.array(z.string()).default([]),
  /** Only these items run (retry one item alone). */
  only: z.array(z.string()).optional(),
  /** Items started per workflow execution before it continues as new (keeps history small). */
  itemsPerExecution: z.number().int().min(1).default(250),
  /** Carried over by continue-as-new; absent on the first execution. */
  carried: z
    .object({
      prepared: z.lazy(() => preparedBenchSchema),
      /** Index of the next item to start, in `benchItems(prepared)` order. */
      next: z.number().int().nonnegative(),
      tally: z.lazy(() => benchTallySchema),
      startedAt: z.string(),
      executions: z.number().int().positive(),
    })
    .optional(),
}));
export type BenchmarkInput = z.input<typeof benchmarkInputSchema>;
export type BenchmarkConfig = z.output<typeof benchmarkInputSchema>;

/** What a worker resolved the benchmark's inputs to: the tasks (stored), the agents, and for judge-only the outputs' layout. */
export const preparedBenchSchema = sharedSchema('benchmark.preparedBenchSchema', () => z.object({
  tasks: z.array(z.object({ name: z.string(), ref: artifactRefSchema })),
  agents: z.array(z.string()),
  /** Judge-only: how the outputs folder is laid out (see activities/bench/outputs.ts). */
  layout: z.enum(['mlrbench-published', 'task-folders']).optional(),
  /** Judge-only: the folder holding one folder per task (absolute on the workers' host; inside the upload when there is one). */
  outputsRoot: z.string().optional(),
  /** Judge-only: the uploaded outputs (each item's review rebuilds them on its own worker). */
  outputsUpload: artifactRefSchema.optional(),
  /** Item keys with no outputs to judge (judge-only); they are not items. */
  missing: z.array(z.string()).default([]),
}));
export type PreparedBench = z.output<typeof preparedBenchSchema>;

/** One unit of work: a task and an agent (and, for competitions, which attempt). */
export interface BenchItem {
  key: string;
  task: string;
  taskRef: z.infer<typeof artifactRefSchema>;
  agent: string;
  /** 1-based attempt number when the benchmark makes several runs per task and agent. */
  run?: number;
}

/** Every item of a prepared benchmark, in a fixed order (task, then agent, then attempt). */
export function benchItems(prepared: PreparedBench, runs = 1): BenchItem[] {
  const missing = new Set(prepared.missing);
  const items: BenchItem[] = [];
  for (const task of prepared.tasks) {
    for (const agent of prepared.agents) {
      const key = benchItemKey(task.name, agent);
      if (missing.has(key)) continue;
      if (runs === 1) items.push({ key, task: task.name, taskRef: task.ref, agent });
      else for (let run = 1; run <= runs; run++) items.push({ key: `${key}#${run}`, task: task.name, taskRef: task.ref, agent, run });
    }
  }
  return items;
}

export const benchFailureSchema = sharedSchema('benchmark.benchFailureSchema', () => z.object({
  key: z.string(),
  task: z.string(),
  agent: z.string(),
  /** `research` or `review:<kind>`. */
  part: z.string(),
  reason: z.string(),
  /** The workflow that failed, to open in the UI. */
  workflowId: z.string(),
}));
export type BenchFailure = z.infer<typeof benchFailureSchema>;

export const benchTallySchema = sharedSchema('benchmark.benchTallySchema', () => z.object({
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Not started: the budget ran out, or skipped as already finished. */
  skipped: z.number().int().nonnegative(),
  spent: usageSchema,
  /** The most recent failures (the full list is in the failed workflows). */
  failures: z.array(benchFailureSchema),
}));
export type BenchTally = z.infer<typeof benchTallySchema>;

/** At most this many failures travel in progress and results. */
export const MAX_LISTED_FAILURES = 200;

export interface BenchProgress {
  benchId: string;
  mode: BenchMode;
  status: 'preparing' | 'running' | 'completed';
  total: number;
  done: number;
  failed: number;
  skipped: number;
  running: number;
  /** Keys of the items in flight. */
  inFlight: string[];
  spent: Usage;
  budget: z.infer<typeof budgetSchema>;
  startedAt: string;
  /** How many executions (continue-as-new) the benchmark has had. */
  executions: number;
  failures: BenchFailure[];
}

export interface BenchResult {
  benchId: string;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  spent: Usage;
  failures: BenchFailure[];
}

/** An item's key: `<task>/<agent>` (a task name has no `/`), plus `#<attempt>` with several runs. */
export function benchItemKey(task: string, agent: string): string {
  return `${task}/${agent}`;
}

/** The review kinds a mode implies when none are given. */
export function defaultReviews(mode: BenchMode, stages: StageName[]): ReviewKind[] {
  if (mode === 'end-to-end') return ['end_to_end'];
  if (mode === 'competition') return ['mlrc'];
  return stages.includes('proposal') ? ['idea', 'proposal'] : ['idea'];
}

/**
 * Judge-only: where an item's outputs are. Published MLR-Bench outputs keep every model's idea and
 * proposal side by side (`<task>/idea/idea_<model>.md`); run folders hold one agent's files each.
 */
export function outputsSubject(prepared: PreparedBench, item: Pick<BenchItem, 'task' | 'agent'>) {
  const path = `${prepared.outputsRoot}/${item.task}`.replace(/^\.\//, '');
  const upload = prepared.outputsUpload ? { upload: prepared.outputsUpload, name: item.task } : {};
  if (prepared.layout === 'mlrbench-published') {
    return {
      source: 'folder' as const,
      path,
      ...upload,
      files: { idea: `idea/idea_${item.agent}.md`, proposal: `proposal/proposal_${item.agent}.md`, related_work: 'related_work.md' },
    };
  }
  return { source: 'folder' as const, path, ...upload };
}
