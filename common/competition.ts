/**
 * Competition tasks (MLRC-Bench style): a problem with starter code whose baseline lives in the
 * editable `methods/` folder, a dev split the agent sees, a hidden test split only the scorer
 * reads, one objective metric, and the baseline's and a strong reference method's measured scores.
 * Pure types, schemas and score arithmetic (workflows import it).
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';
import { experimentLimitsSchema } from './limits.js';
import type { ReviewDocuments } from './reviews.js';
import { artifactRefSchema, budgetSchema, type Usage } from './schemas.js';

/** `competition.json` in a competition task folder. */
export const competitionSpecSchema = sharedSchema('competition.competitionSpecSchema', () => z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
  title: z.string().min(1),
  metric: z.object({
    name: z.string().min(1),
    direction: z.enum(['higher', 'lower']),
    /** One line on what the metric measures, for the agent. */
    description: z.string().min(1),
  }),
  /** What the data is, for the agent (sizes, columns, target). */
  data: z.string().min(1),
  /** The only folder the agent may change. */
  editable: z.literal('methods/').default('methods/'),
  /** Limits of one full scoring run (fit on train+dev, predict the test split). */
  limits: z.object({ wallSeconds: z.number().positive(), memoryMb: z.number().positive() }),
  /** Limits of `validate_code`: a quick check on a small sample. */
  validateLimits: z.object({ wallSeconds: z.number().positive(), memoryMb: z.number().positive() }),
}));
export type CompetitionSpec = z.output<typeof competitionSpecSchema>;

/** `reference.json`: scores measured by `npm run competitions:measure` through the scorer, never typed in. */
export const competitionReferenceSchema = sharedSchema('competition.competitionReferenceSchema', () => z.object({
  baseline: z.object({ score: z.number(), method: z.string().min(1) }),
  /** A strong known method (named), not the best human score: MLRC-Bench's top human solutions need its data. */
  reference: z.object({ score: z.number(), method: z.string().min(1), kind: z.string().min(1) }),
  /**
   * How far one method's score may lie from these means on another draw of the data (each benchmark
   * draws its own from a secret): 4 standard deviations over the measured draws, at least 2% of the gap.
   */
  tolerance: z.number().nonnegative(),
  measured: z.object({
    at: z.string(),
    command: z.string(),
    machine: z.string().optional(),
    /** Data draws (fresh secrets) the scores are the means of; absent: one fixed draw (tasks made before secrets). */
    draws: z.number().int().positive().optional(),
  }),
}));
export type CompetitionReference = z.output<typeof competitionReferenceSchema>;

export type ScoreSplit = 'dev' | 'test';

export interface SubmissionScore {
  task: string;
  split: ScoreSplit;
  /** `invalid`: the submission broke the rules (changed files outside methods/, read the hidden labels). */
  status: 'scored' | 'failed' | 'invalid';
  /** Why it failed or is invalid, in words. */
  reason?: string;
  metric: { name: string; direction: 'higher' | 'lower' };
  score?: number;
  baseline: number;
  reference: number;
  /**
   * Where `baseline` and `reference` come from: `draw`, the task's own two methods scored on this
   * run's data draw; `reference.json`, the committed means over draws. Absent in older records.
   */
  gapSource?: 'draw' | 'reference.json';
  /** 100 × (score − baseline) / (reference − baseline): the share of the gap closed, in percent. */
  relativeImprovement?: number;
  /** (score − baseline) / (reference − baseline): 0 at the baseline, 1 at the reference. */
  normalised?: number;
  /** At least SUCCESS_MARGIN_PERCENT of the gap closed. */
  success: boolean;
  runtimeSeconds: number;
  /** Lines added plus lines removed in methods/, against the starter code. */
  linesChanged: number;
  /** The scoring run's output (stdout, stderr), in the artifact store. */
  log?: z.infer<typeof artifactRefSchema>;
}

/** MLRC-Bench counts a run a success when it closes at least 5% of the baseline-to-top gap. */
export const SUCCESS_MARGIN_PERCENT = 5;

/**
 * Share of the baseline-to-reference gap closed, in percent. The same formula serves both
 * directions: for lower-is-better metrics reference < baseline, so an improvement is still positive.
 */
export function relativeImprovement(score: number, baseline: number, reference: number): number {
  if (reference === baseline) throw new Error('reference and baseline scores are equal: no gap to close');
  return (100 * (score - baseline)) / (reference - baseline);
}

/** Fills in the derived fields of a scored submission. */
export function withImprovement(score: Omit<SubmissionScore, 'relativeImprovement' | 'normalised' | 'success'>): SubmissionScore {
  if (score.status !== 'scored' || score.score === undefined) return { ...score, success: false };
  const ri = relativeImprovement(score.score, score.baseline, score.reference);
  return { ...score, relativeImprovement: round(ri, 4), normalised: round(ri / 100, 6), success: ri >= SUCCESS_MARGIN_PERCENT };
}

/** Best of several runs (MLRC-Bench reports the best), and mean ± standard error; invalid and failed runs count as no improvement in the mean. */
export function summariseRuns(scores: SubmissionScore[]): { best?: SubmissionScore; mean?: number; standardError?: number; n: number; successes: number } {
  const improvements = scores.map((s) => (s.status === 'scored' && s.relativeImprovement !== undefined ? s.relativeImprovement : 0));
  const scored = scores.filter((s) => s.status === 'scored' && s.relativeImprovement !== undefined);
  const best = scored.sort((a, b) => b.relativeImprovement! - a.relativeImprovement!)[0];
  const n = scores.length;
  if (!n) return { n, successes: 0 };
  const mean = improvements.reduce((a, b) => a + b, 0) / n;
  // One run has no spread to speak of: its standard error is unknown, not 0.
  const sd = n > 1 ? Math.sqrt(improvements.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : undefined;
  return { best, mean: round(mean, 4), ...(sd !== undefined ? { standardError: round(sd / Math.sqrt(n), 4) } : {}), n, successes: scores.filter((s) => s.success).length };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  // `|| 0`: a value that rounds to zero is 0, never -0 (shown as "-0.0%").
  return Math.round(x * f) / f || 0;
}

/** Input of the scorer activity. */
export interface ScoreCompetitionInput {
  /** The run (or environment session) whose workspace holds the submission. */
  runId: string;
  task: string;
  split: ScoreSplit;
  /** `validate`: a quick check with tight limits on a small sample (the env's validate_code). */
  mode?: 'full' | 'validate';
}

/** What `prepareCompetition` set up: the workspace's files, and the task text in the store. */
export interface PreparedCompetition {
  task: string;
  spec: CompetitionSpec;
  reference: CompetitionReference;
  /** task.md in the artifact store (what the agent reads). */
  taskRef: z.infer<typeof artifactRefSchema>;
  /** Files the agent finds in its workspace (relative paths). */
  files: string[];
}

/** `competitionRun`: one agent's attempt at one competition task. */
export const competitionRunInputSchema = sharedSchema('competition.competitionRunInputSchema', () => z.object({
  /** The competition's name (tasks/competitions/<name>). */
  task: z.string().min(1),
  model: z.string().min(1),
  reasoningEffort: z.enum(['low', 'medium', 'high']).optional(),
  limits: experimentLimitsSchema.default({ maxSteps: 30, wallSeconds: 3600, stepsPerSegment: 10, sandbox: {} }),
  budget: budgetSchema.default({}),
  /**
   * Whose data secret the task's data are drawn from (default: the run's own id). Runs that share
   * one (a benchmark's, or `lab compete --runs N`) see the same data, so their scores compare.
   */
  dataKey: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/).optional(),
}));
export type CompetitionRunInput = z.input<typeof competitionRunInputSchema>;

export interface CompetitionRunResult {
  task: string;
  model: string;
  /** The hidden test split's score: scored, failed (the code did not run) or invalid (it broke the rules). */
  score: SubmissionScore;
  experiment: { end: string; steps: number };
  /** What a judge reads: the task, the write-up made from the run's records, the command log and the code. */
  documents: ReviewDocuments;
  usage: Usage;
}
