/**
 * The two record formats `lab export` writes, one JSON object per line, and the step-record
 * formats it reads. docs/trajectories.md describes exactly these schemas; every output record is
 * checked against them before it is written.
 */
import { z } from 'zod';

export const EXPORT_FORMATS = ['sft', 'steps'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const SOURCES = ['research', 'competition', 'env'] as const;
export type TrajectorySource = (typeof SOURCES)[number];

/**
 * How an episode ended. research: the experiment's own check (`succeeded`, `failed_experiment`);
 * competition: the hidden test split's scorer (`scored`, `failed`, `invalid`); env: `done`
 * (the session said so), or `failed`/`invalid` when its last info says so; any source:
 * `unfinished` (still running) or `aborted` (the workflow ended before the episode did).
 */
export const OUTCOMES = ['succeeded', 'failed_experiment', 'scored', 'failed', 'invalid', 'done', 'unfinished', 'aborted'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes exported without --include-failed. */
export const GOOD_OUTCOMES: readonly Outcome[] = ['succeeded', 'scored', 'done'];

export const metadataSchema = z.strictObject({
  source: z.enum(SOURCES),
  task: z.string().min(1),
  /** The model spec the run was started with; null when nobody recorded one (env sessions driven from outside). */
  model: z.string().min(1).nullable(),
  /** The workflow id: research run, competition run or environment session. */
  runId: z.string().min(1),
  /** Set when the export was of a benchmark. */
  benchId: z.string().min(1).optional(),
  /** 1-based step number within the episode. */
  step: z.number().int().positive(),
  /** Steps the episode has in the store (exported or not). */
  episode_steps: z.number().int().positive(),
  outcome: z.enum(OUTCOMES),
  /** Sum of the episode's rewards (see docs/trajectories.md for how each source sets them). */
  episode_return: z.number().finite(),
  /** Objective score of the episode: the hidden test metric (competition), the env's final score (env). Absent for research runs. */
  final_score: z.number().finite().optional(),
  /** 100 × (score − baseline) / (reference − baseline), when the source measured one. */
  relative_improvement: z.number().finite().optional(),
  /** relative_improvement / 100: 0 at the baseline, 1 at the reference. */
  normalised: z.number().finite().optional(),
  /** Why the experiment loop ended (finished, max_steps, wall_time, budget), when known. */
  end: z.string().optional(),
  /** The model's stated reasoning for this step's action (steps format; in sft it is inside the assistant turn). */
  thought: z.string().optional(),
});
export type TrajectoryMetadata = z.infer<typeof metadataSchema>;

const message = <R extends string>(role: R) => z.strictObject({ role: z.literal(role), content: z.string().min(1) });

/** OpenAI fine-tuning chat format, plus our metadata (ignored by trainers that do not read it). */
export const sftSampleSchema = z.strictObject({
  messages: z.tuple([message('system'), message('user'), message('assistant')]),
  metadata: metadataSchema,
});
export type SftSample = z.infer<typeof sftSampleSchema>;

/** One (observation, action, reward, next observation, done) transition, for RL and inverse RL. */
export const stepTransitionSchema = z.strictObject({
  /** What the agent had seen before acting: the previous step's observation; null at an episode's first step when no reset observation is stored. */
  observation: z.json().nullable(),
  action: z.json(),
  reward: z.number().finite(),
  next_observation: z.json(),
  /** True on the step that ended the episode; false on every step of an unfinished or aborted one. */
  done: z.boolean(),
  metadata: metadataSchema,
});
export type StepTransition = z.infer<typeof stepTransitionSchema>;

/** An experiment-loop step record, `runs/<runId>/experiment/steps/NNN.json` (activities/experiment/transcript.ts). */
export const experimentStepRecordSchema = z.object({
  step: z.number().int().positive(),
  thought: z.string().optional(),
  action: z.looseObject({ action: z.string() }),
  observation: z.looseObject({ action: z.string(), ok: z.boolean(), text: z.string() }),
});
export type ExperimentStepRecord = z.infer<typeof experimentStepRecordSchema>;

/**
 * An environment session's step record, `runs/<sessionId>/env/steps/NNN.json`. Step 0 (or a
 * record whose action is null or `reset`) holds the reset observation and is no transition.
 */
export const envStepRecordSchema = z.object({
  session: z.string().min(1),
  task: z.string().min(1),
  step: z.number().int().nonnegative(),
  action: z.json().nullable().optional(),
  observation: z.json(),
  reward: z.number().finite().nullable().optional(),
  done: z.boolean().default(false),
  info: z.record(z.string(), z.json()).nullable().optional(),
  at: z.string().optional(),
});
export type EnvStepRecord = z.infer<typeof envStepRecordSchema>;
