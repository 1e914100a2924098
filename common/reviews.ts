/**
 * Reviews (MLR-Judge): what a review reads, what each judge answers, and how several judges'
 * answers combine. Pure (no I/O): the review workflow, the judge activities, the CLI and the
 * report module all use it.
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';
import { artifactRefSchema, budgetSchema, stageTimeoutsSchema, usageSchema, type ArtifactRef, type StageName, type Usage } from './schemas.js';

/**
 * The review kinds. `end_to_end` and the hallucination check read the finished paper; `mlrc` is
 * MLRC-Bench's 1–5 rubric (judged with or without the code, see `withCode`).
 */
export const REVIEW_KINDS = ['idea', 'proposal', 'experiment', 'paper', 'end_to_end', 'hallucination', 'mlrc'] as const;
export type ReviewKind = (typeof REVIEW_KINDS)[number];
export const reviewKindSchema = sharedSchema('reviews.reviewKindSchema', () => z.enum(REVIEW_KINDS));

/** The documents of a piece of research, named as MLR-Bench names them. */
export const reviewDocumentsSchema = sharedSchema('reviews.reviewDocumentsSchema', () => z.object({
  task: artifactRefSchema.optional(),
  idea: artifactRefSchema.optional(),
  related_work: artifactRefSchema.optional(),
  proposal: artifactRefSchema.optional(),
  /** results/results.md */
  results: artifactRefSchema.optional(),
  /** The experiment's command log (results/log.txt) or a coding agent's transcript. */
  log: artifactRefSchema.optional(),
  /** results/paper.md (or paper.md) */
  paper: artifactRefSchema.optional(),
  /** Source files of the experiment's code. */
  code: z.array(artifactRefSchema).default([]),
  /** Figures the paper or results embed. */
  figures: z.array(artifactRefSchema).default([]),
}));
export type ReviewDocuments = z.output<typeof reviewDocumentsSchema>;
export type ReviewDocumentName = Exclude<keyof ReviewDocuments, 'code' | 'figures'>;

/** What a review judges: a run of ours (documents already in the store) or a folder of someone else's outputs. */
export const reviewSubjectSchema = sharedSchema('reviews.reviewSubjectSchema', () => z.discriminatedUnion('source', [
  z.object({ source: z.literal('run'), runId: z.string().min(1), documents: reviewDocumentsSchema }),
  /**
   * A folder laid out as MLR-Bench lays out its outputs (idea.md, related_work.md, proposal.md,
   * results/results.md, results/paper.md, a code folder). The research worker reads it, so it
   * must be readable there; `files` maps document names to other file names inside it.
   */
  z.object({
    source: z.literal('folder'),
    /** The folder on the worker; with `upload`, a path inside the uploaded folder (`.` for all of it). */
    path: z.string().min(1),
    /** The folder as the CLI uploaded it through the store (its manifest), so no disk is shared. */
    upload: artifactRefSchema.optional(),
    /** What the subject is called in reviews (default: the folder's last name). */
    name: z.string().min(1).optional(),
    files: z.partialRecord(z.enum(['task', 'idea', 'related_work', 'proposal', 'results', 'log', 'paper']), z.string().min(1)).optional(),
  }),
]));
export type ReviewSubject = z.input<typeof reviewSubjectSchema>;

export const reviewInputSchema = sharedSchema('reviews.reviewInputSchema', () => z.object({
  kind: reviewKindSchema,
  subject: reviewSubjectSchema,
  /** Model specs of the judges; each scores independently, in parallel. */
  judges: z.array(z.string().min(1)).min(1).max(8),
  /** The task text, already stored, for a folder that holds no task.md (published outputs keep tasks apart). */
  task: artifactRefSchema.optional(),
  /** MLRC rubric and end-to-end review: whether the judge also sees the code (default: yes when there is code). */
  withCode: z.boolean().optional(),
  /** The whole review's budget, split evenly between its judges (they run at once). */
  budget: budgetSchema.default({}),
  timeouts: stageTimeoutsSchema.default({ startToCloseSeconds: 1800, heartbeatSeconds: 60, maxAttempts: 5 }),
  /** Set when a benchmark started this review, for its search attributes and report. */
  bench: z.object({ benchId: z.string(), task: z.string(), agent: z.string() }).optional(),
}));
export type ReviewInput = z.input<typeof reviewInputSchema>;
export type ReviewConfig = z.output<typeof reviewInputSchema>;

/** One judge's answer to one review, reduced to numbers; the full answer (justifications) is its artifact. */
export interface JudgeVerdict {
  /** The judge's model spec as given. */
  judge: string;
  /** The model as the provider named it. */
  model: string;
  rubricVersion: string;
  /** Every scored dimension by its rubric name, the overall item and Confidence included (e.g. `OverallAssessment: 8`). */
  scores: Record<string, number>;
  /** The overall score (OverallAssessment or Overall), for tables. Absent for the hallucination check. */
  overall?: number;
  /** Hallucination check and experiment review: whether the judge found hallucinated content. */
  hasHallucination?: boolean;
  /** The judge's whole answer, MLR-Bench shaped JSON (scores, justifications, strengths, weaknesses). */
  artifact: z.infer<typeof artifactRefSchema>;
  usage: Usage;
  /** `false` for an embedded judge: no model that small judges meaningfully (common/judgeCalibration.ts). Absent otherwise. */
  calibrated?: false;
}

export interface JudgeFailure {
  judge: string;
  error: string;
  /** What the judge spent before it failed (an invalid answer asked twice is two paid calls). */
  usage?: Usage;
  /** The rubric it was asked to answer on. */
  rubricVersion?: string;
}

/** What a failed judge activity carries in its failure's details, for the review to count. */
export interface JudgeFailureDetails {
  usage: Usage;
  rubricVersion: string;
}

export interface ReviewResult {
  reviewId: string;
  kind: ReviewKind;
  rubricVersion: string;
  /** `failed` when any judge failed: no mean is given then, never a silently partial score. */
  status: 'completed' | 'failed';
  /** The run reviewed, or the folder's name. */
  subject: string;
  withCode?: boolean;
  verdicts: JudgeVerdict[];
  failures: JudgeFailure[];
  /** Mean over judges, per dimension (only when every judge answered). */
  mean?: Record<string, number>;
  /** How far the judges are apart, per dimension (only with two or more judges). */
  disagreement?: Record<string, Disagreement>;
  /** Every judge's spend, failed judges' included. */
  usage: Usage;
  /**
   * This review's own `summary.json`, in its attempt folder (`reviews/<kind>/attempts/<attempt>/`).
   * A completed review is also copied to `reviews/<kind>/summary.json`, which always holds the
   * latest completed attempt; a failed one never replaces it.
   */
  summary?: z.infer<typeof artifactRefSchema>;
  /** The attempt folder's name (under `reviews/<kind>/attempts/`). */
  attempt?: string;
  /** `false` when an embedded judge took part (its scores are not calibrated), with `calibration` saying so; absent otherwise. */
  calibrated?: false;
  calibration?: string;
  bench?: { benchId: string; task: string; agent: string };
}

export interface Disagreement {
  /** Highest minus lowest score. */
  range: number;
  /** Sample standard deviation over judges. */
  sd: number;
}

/** Mean and disagreement per dimension over the judges' verdicts (dimensions every judge scored). */
export function combineVerdicts(verdicts: Pick<JudgeVerdict, 'scores'>[]): { mean: Record<string, number>; disagreement?: Record<string, Disagreement> } {
  const mean: Record<string, number> = {};
  const disagreement: Record<string, Disagreement> = {};
  if (!verdicts.length) return { mean };
  const dimensions = Object.keys(verdicts[0].scores).filter((d) => verdicts.every((v) => typeof v.scores[d] === 'number'));
  for (const d of dimensions) {
    const values = verdicts.map((v) => v.scores[d]);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    mean[d] = round(m);
    if (values.length > 1) {
      const variance = values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1);
      disagreement[d] = { range: Math.max(...values) - Math.min(...values), sd: round(Math.sqrt(variance)) };
    }
  }
  return verdicts.length > 1 ? { mean, disagreement } : { mean };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * The name of a review's attempt folder (`reviews/<kind>/attempts/<name>/`): the review id,
 * less the run id it starts with. Each review workflow writes its judges' answers and its
 * summary there, so a later review, failed or not, never overwrites an earlier one.
 */
export function reviewAttemptName(storeId: string, reviewId: string): string {
  const name = reviewId.startsWith(`${storeId}.`) ? reviewId.slice(storeId.length + 1) : reviewId;
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 120) || 'review';
}

/** A judge's model spec as a plain file name (`anthropic:claude-x` → `anthropic_claude-x`). */
export function judgeSlug(spec: string): string {
  return spec.replace(/^openai-compatible:([^@]*)@.*$/, 'openai-compatible:$1').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/\.{2,}/g, '.').replace(/^[._-]+/, '').slice(0, 80) || 'judge';
}

export const judgeVerdictSchema = sharedSchema('reviews.judgeVerdictSchema', () => z.object({
  judge: z.string(),
  model: z.string(),
  rubricVersion: z.string(),
  scores: z.record(z.string(), z.number()),
  overall: z.number().optional(),
  hasHallucination: z.boolean().optional(),
  artifact: artifactRefSchema,
  usage: usageSchema,
  calibrated: z.literal(false).optional(),
}));

/** A run's stage outputs as the documents a review reads (MLR-Bench's names for them). */
export function documentsOfRun(task: ArtifactRef, outputs: Partial<Record<StageName, { artifact: ArtifactRef; extra?: ArtifactRef[] }>>): ReviewDocuments {
  const files = outputs.experiment?.extra ?? [];
  return {
    task,
    ...(outputs.idea ? { idea: outputs.idea.artifact } : {}),
    ...(outputs.literature ? { related_work: outputs.literature.artifact } : {}),
    ...(outputs.proposal ? { proposal: outputs.proposal.artifact } : {}),
    ...(outputs.experiment ? { results: outputs.experiment.artifact } : {}),
    ...(outputs.paper ? { paper: outputs.paper.artifact } : {}),
    ...optional('log', files.find((f) => f.path.endsWith('/results/log.txt'))),
    code: files.filter((f) => f.path.includes('/experiment/code/')),
    figures: files.filter((f) => /\.(png|jpe?g|svg|gif)$/i.test(f.path)),
  };
}

function optional<K extends string>(key: K, ref: ArtifactRef | undefined): Partial<Record<K, ArtifactRef>> {
  return ref ? ({ [key]: ref } as Record<K, ArtifactRef>) : {};
}
