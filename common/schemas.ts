/**
 * Pure types and zod schemas shared by workflows, activities and the CLI.
 * No I/O here: workflow code imports this module.
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';
import { experimentLimitsSchema } from './limits.js';
import { STAGES, type StageName } from './stages.js';

export const stageNameSchema = sharedSchema('schemas.stageNameSchema', () => z.enum(STAGES));

/** A stored artifact. History carries this, never the content. */
export const artifactRefSchema = sharedSchema('schemas.artifactRefSchema', () => z.object({
  /** Content address, e.g. `artifact:sha256/<hex>`; resolved by the artifact store. */
  uri: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  /** Human-readable location relative to the store root, e.g. `runs/<runId>/idea.md`. */
  path: z.string().min(1),
  mediaType: z.string().default('text/markdown'),
}));
export type ArtifactRef = z.infer<typeof artifactRefSchema>;

export const usageSchema = sharedSchema('schemas.usageSchema', () => z.object({
  llmCalls: z.number().int().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
}));
export type Usage = z.infer<typeof usageSchema>;
export const ZERO_USAGE: Usage = { llmCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    llmCalls: a.llmCalls + b.llmCalls,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: Math.round((a.costUsd + b.costUsd) * 1e6) / 1e6,
  };
}

export const gatePolicySchema = sharedSchema('schemas.gatePolicySchema', () => z.object({
  /** Stages after which the run waits for a human `review` update. */
  stages: z.array(stageNameSchema).default([]),
  /** How long a gate waits; absent = forever. */
  timeoutSeconds: z.number().positive().optional(),
  /** What happens when a gate times out. */
  onTimeout: z.enum(['approve', 'reject']).default('approve'),
  /** How many times one stage may be sent back with `revise`. */
  maxRevisions: z.number().int().min(0).max(20).default(3),
}));
export type GatePolicy = z.infer<typeof gatePolicySchema>;

export const budgetSchema = sharedSchema('schemas.budgetSchema', () => z.object({
  usd: z.number().positive().optional(),
  tokens: z.number().int().positive().optional(),
}));
export type Budget = z.infer<typeof budgetSchema>;

/** Per-stage activity timing; defaults suit real LLMs, tests shorten them. */
export const stageTimeoutsSchema = sharedSchema('schemas.stageTimeoutsSchema', () => z.object({
  startToCloseSeconds: z.number().positive().default(30 * 60),
  heartbeatSeconds: z.number().positive().default(60),
  maxAttempts: z.number().int().positive().default(5),
}));

export const llmCallRecordSchema = sharedSchema('schemas.llmCallRecordSchema', () => z.object({
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  /** Served from the call cache: paid for by an earlier attempt of the same activity. */
  cached: z.boolean(),
}));
export type LlmCallRecord = z.infer<typeof llmCallRecordSchema>;

/** What a stage's integrity checks found; counts only (details are artifacts). */
export const stageChecksSchema = sharedSchema('schemas.stageChecksSchema', () => z.object({
  experiment: z
    .object({
      status: z.enum(['succeeded', 'failed_experiment']),
      reason: z.string().optional(),
      end: z.string(),
      steps: z.number().int().nonnegative(),
      commands: z.number().int().nonnegative(),
    })
    .optional(),
  /** Numbers stated in the stage's documents that no sandbox-produced file contains. */
  provenance: z
    .object({
      checked: z.number().int(),
      matched: z.number().int(),
      unmatched: z.number().int(),
      /** `error`: the check could not run (`error` says why); its counts are then not a verdict. */
      status: z.enum(['ok', 'error']).optional(),
      error: z.string().optional(),
      /** Stated numbers by verdict (supported, derived, unsupported, typed, setting-…, listed). */
      counts: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
  citations: z.object({ checked: z.number().int(), verified: z.number().int(), flagged: z.number().int() }).optional(),
  literature: z
    .object({ retrieved: z.number().int(), cited: z.number().int(), backends: z.array(z.object({ name: z.string(), ok: z.boolean(), error: z.string().optional() })) })
    .optional(),
}));
export type StageChecks = z.infer<typeof stageChecksSchema>;

export const stageOutcomeSchema = sharedSchema('schemas.stageOutcomeSchema', () => z.object({
  artifact: artifactRefSchema,
  /** Secondary files the stage wrote (code, logs); refs only. */
  extra: z.array(artifactRefSchema).default([]),
  /** Files whose numbers count as measured (the experiment's result data and command outputs). */
  sources: z.array(artifactRefSchema).optional(),
  checks: stageChecksSchema.optional(),
  usage: usageSchema,
  /** The model that actually wrote the output, as the provider named it. */
  model: z.string(),
  /** One record per provider call (a JSON re-ask makes two): the stage's LLM ledger. */
  calls: z.array(llmCallRecordSchema).default([]),
}));
export type StageOutcome = z.infer<typeof stageOutcomeSchema>;

/** Task texts travel in the run's input; MLR-Bench's longest is under 10 KB. */
export const MAX_TASK_TEXT_CHARS = 100_000;

/** A task already in the store (benchmark items, runs started before task texts travelled in the input). */
export const storedTaskSchema = sharedSchema('schemas.storedTaskSchema', () => z.object({ name: z.string().min(1), ref: artifactRefSchema }));
export type StoredTask = z.infer<typeof storedTaskSchema>;

export const researchRunInputSchema = sharedSchema('schemas.researchRunInputSchema', () => z.object({
  /**
   * The task: its text, which the run's first activity puts into the store (so the CLI needs no
   * access to the workers' store), or a reference to it already stored.
   */
  task: z.union([storedTaskSchema, z.object({ name: z.string().min(1), text: z.string().min(1).max(MAX_TASK_TEXT_CHARS) })], {
    error: `give its text ({ name, text }, at most ${MAX_TASK_TEXT_CHARS} characters) or a stored reference ({ name, ref })`,
  }),
  /** Model spec, e.g. `embedded`, `openai:gpt-4.1`, `anthropic:claude-sonnet-4-5`. */
  model: z.string().min(1),
  /** For OpenAI reasoning models (o-series, gpt-5); ignored by other models. */
  reasoningEffort: z.enum(['low', 'medium', 'high']).optional(),
  gates: gatePolicySchema.default({ stages: [], onTimeout: 'approve', maxRevisions: 3 }),
  budget: budgetSchema.default({}),
  stageTimeouts: stageTimeoutsSchema.default({ startToCloseSeconds: 1800, heartbeatSeconds: 60, maxAttempts: 5 }),
  /** Outputs of a previous run's completed stages, reused as-is (`lab resume`). */
  reuse: z.partialRecord(stageNameSchema, stageOutcomeSchema).default({}),
  resumedFrom: z.string().optional(),
  /** What the runs this one resumes from spent (all of them, back to the first), for lineage totals. */
  priorUsage: usageSchema.optional(),
  /** Bounds of the experiment stage's agent loop and of each sandboxed command. */
  experiment: experimentLimitsSchema.optional(),
  /** A benchmark checked the model, sandbox and backends once for all its runs. */
  skipPreflight: z.boolean().optional(),
  /** The run ends after this stage (stepwise benchmarks stop after the idea or the proposal). */
  stopAfter: stageNameSchema.optional(),
}));
export type ResearchRunInput = z.input<typeof researchRunInputSchema>;
export type ResearchRunConfig = z.output<typeof researchRunInputSchema>;
/** A run's settings once its task is in the store: what the stages read. */
export type StoredRunConfig = Omit<ResearchRunConfig, 'task'> & { task: StoredTask };

/**
 * Who decided, as the run's history records it with the decision: `alice (lab approve)`,
 * `reviewers (lab ui)`. A name, never a token. Older clients send none.
 */
const decidedBy = sharedSchema('schemas.decidedBy', () => z.string().trim().min(1).max(200).optional());

export const reviewDecisionSchema = sharedSchema('schemas.reviewDecisionSchema', () => z.discriminatedUnion('action', [
  z.object({ action: z.literal('approve'), feedback: z.string().optional(), by: decidedBy }),
  z.object({ action: z.literal('revise'), feedback: z.string().trim().min(1, 'revise needs feedback text'), by: decidedBy }),
  z.object({ action: z.literal('reject'), feedback: z.string().optional(), by: decidedBy }),
]));
export type ReviewDecision = z.infer<typeof reviewDecisionSchema>;

export type StageStatus = 'pending' | 'running' | 'awaiting_review' | 'done' | 'reused' | 'failed' | 'rejected' | 'skipped';
export type RunStatus = 'running' | 'awaiting_review' | 'completed' | 'rejected' | 'budget_exhausted' | 'failed';

export interface StageProgress {
  stage: StageName;
  status: StageStatus;
  /** How many times the stage ran in this run (1 + revisions); 0 if reused or not started. */
  runs: number;
  startedAt?: string;
  finishedAt?: string;
  /** When the stage's current run (first try or revision) began. */
  runStartedAt?: string;
  /** Time the stage spent working, summed over its runs; time waiting at its gate is not counted. */
  workMs?: number;
  artifact?: ArtifactRef;
  model?: string;
  usage: Usage;
  lastFeedback?: string;
  checks?: StageChecks;
}

export interface PendingGate {
  stage: StageName;
  since: string;
  artifact: ArtifactRef;
  revisionsUsed: number;
  maxRevisions: number;
  /** ISO time at which the gate's timeout policy applies, if it has one. */
  decidesAt?: string;
  onTimeout?: 'approve' | 'reject';
}

export interface RunProgress {
  task: string;
  model: string;
  status: RunStatus;
  currentStage?: StageName;
  stages: StageProgress[];
  pendingGate?: PendingGate;
  totals: Usage;
  /** This run's totals plus what the runs it resumes from spent; set on resumed runs. */
  lineageTotals?: Usage;
  budget: Budget;
  resumedFrom?: string;
  startedAt: string;
  /** What the preflight check found before the first stage. */
  preflight?: { problems: string[]; warnings: string[] };
}

export interface ReviewOutcome {
  stage: StageName;
  action: ReviewDecision['action'];
  /** What the run does next, in words, for the CLI to print. */
  next: string;
}

export interface ResearchRunResult {
  status: Extract<RunStatus, 'completed' | 'rejected' | 'budget_exhausted'>;
  artifacts: Partial<Record<StageName, ArtifactRef>>;
  /** The experiment's other files (log, result data, figures, code), for reviews that read them. */
  experimentFiles?: ArtifactRef[];
  totals: Usage;
  /** Stage at which the run stopped early (rejected or out of budget). */
  stoppedAt?: StageName;
  reason?: string;
}

/** Kept in the workflow memo so `lab resume` can read finished stages without a worker. */
export interface RunMemo {
  completed: Partial<Record<StageName, StageOutcome>>;
  resumedFrom?: string;
  /** What this run has spent so far (revisions included), updated as stages finish. */
  spent?: Usage;
}

export type { StageName };
