/**
 * The Gym-style environment session (MLE-Dojo style) over a competition task: the actions, what a
 * step returns, the session's state and the step record written to the artifact store. Pure types
 * and zod schemas (the `envSession` workflow, `lab env serve` and the export read them).
 * Documented in docs/gym.md.
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';
import type { SubmissionScore } from './competition.js';
import { envActionSchema, sandboxLimitsSchema, type Observation } from './environment.js';
import { isValidRunId, RUN_ID_RULE } from './runIds.js';
import type { ArtifactRef } from './schemas.js';

export const INFO_TOPICS = ['overview', 'data', 'metric'] as const;
export type InfoTopic = (typeof INFO_TOPICS)[number];

/** The file actions and `finish` of the experiment environment, plus the competition actions. */
export const sessionActionSchema = sharedSchema('envSession.sessionActionSchema', () => z.discriminatedUnion('action', [
  ...envActionSchema.options,
  z.object({ action: z.literal('request_info'), topic: z.enum(INFO_TOPICS) }),
  z.object({ action: z.literal('validate_code') }),
  z.object({ action: z.literal('execute_code') }),
  /** Scores methods/ on the hidden test split and ends the session (`finish` is the same). */
  z.object({ action: z.literal('submit'), summary: z.string().max(4000).optional() }),
]));
export type SessionAction = z.infer<typeof sessionActionSchema>;
export type SessionActionName = SessionAction['action'];
export const SESSION_ACTIONS: SessionActionName[] = sessionActionSchema.options.map((o) => o.shape.action.value) as SessionActionName[];

/** An action that failed the schema, in one line naming the field. */
export function describeActionError(raw: unknown): string | undefined {
  const parsed = sessionActionSchema.safeParse(raw);
  if (parsed.success) return undefined;
  const name = (raw as { action?: unknown } | null)?.action;
  if (typeof name !== 'string' || !(SESSION_ACTIONS as string[]).includes(name)) {
    return `unknown action ${JSON.stringify(name ?? null)} (actions: ${SESSION_ACTIONS.join(', ')})`;
  }
  return `invalid ${name} action: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'action'}: ${i.message}`).join('; ')}`;
}

export const envSessionLimitsSchema = sharedSchema('envSession.envSessionLimitsSchema', () => z.object({
  /** Steps in the whole session; the step that uses the last one returns `done` (truncated). */
  maxSteps: z.number().int().positive().max(1000).default(50),
  /** Steps per workflow execution before continuing as new (history stays small). */
  stepsPerExecution: z.number().int().positive().max(200).default(25),
  /** The session ends when no step comes for this long. */
  idleSeconds: z.number().positive().default(24 * 3600),
  /** Limits of a `run` action's command (the scorer has the task's own limits). */
  sandbox: sandboxLimitsSchema.partial().prefault({}),
  /** Which form of the score the reward is: normalised (0 at the baseline, 1 at the reference; sign-aware) or the raw metric. */
  reward: z.enum(['normalised', 'raw']).default('normalised'),
  /** Reward of a scoring action whose submission failed or was invalid. */
  failureReward: z.number().default(0),
  /** How long a step may wait for the session's sandbox host before the host is checked (absent: 600); a host that is gone ends the session. */
  hostWaitSeconds: z.number().positive().max(86_400).optional(),
}));
export type EnvSessionLimits = z.output<typeof envSessionLimitsSchema>;

export const envSessionInputSchema = sharedSchema('envSession.envSessionInputSchema', () => z.object({
  /** The competition's name (tasks/competitions/<name>). */
  task: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'task must be a competition name'),
  limits: envSessionLimitsSchema.prefault({}),
  /** Set by the workflow itself when it continues as new. */
  carried: z.custom<EnvSessionState>((v) => typeof v === 'object' && v !== null).optional(),
}));
export type EnvSessionInput = z.input<typeof envSessionInputSchema>;

export function checkSessionId(id: string): string {
  if (!isValidRunId(id)) throw new Error(`sessionId "${id}" is not valid: ${RUN_ID_RULE}`);
  return id;
}

/** What the agent sees: the experiment environment's observation, named by the session's action. */
export type SessionObservation = Omit<Observation, 'action'> & { action: SessionActionName | 'reset' };

export interface StepInfo {
  step: number;
  maxSteps: number;
  stepsLeft: number;
  /** Why the reward is what it is, or why the action did nothing (failed or invalid submission, scorer error). */
  reason?: string;
  /** Scoring actions: the scorer's verdict and numbers. */
  split?: 'dev' | 'test';
  mode?: 'full' | 'validate';
  status?: SubmissionScore['status'];
  /** The raw metric. */
  score?: number;
  /** (score − baseline) / (reference − baseline). */
  normalised?: number;
  /** 100 × normalised: the share of the baseline-to-reference gap closed, in percent. */
  relativeImprovement?: number;
  success?: boolean;
  metric?: SubmissionScore['metric'];
  baseline?: number;
  reference?: number;
  runtimeSeconds?: number;
  linesChanged?: number;
  /** Which form `reward` is. */
  rewardForm?: EnvSessionLimits['reward'];
  /** The session ended because its steps ran out, not by a submission. */
  truncated?: boolean;
  endReason?: EnvSessionEnd;
  /** Where this step's record is, relative to the artifact store. */
  record?: string;
}

export interface EnvStepResult {
  observation: SessionObservation;
  reward: number;
  done: boolean;
  info: StepInfo;
}

export interface EnvResetResult {
  sessionId: string;
  observation: SessionObservation;
  info: StepInfo & { task: string; title: string; files: string[]; actions: SessionActionName[] };
}

/** `sandbox_host_lost`: the session's sandbox host stopped answering, and its workspace is gone with it. */
export type EnvSessionEnd = 'submitted' | 'max_steps' | 'idle' | 'sandbox_host_lost';

export interface ScoreSummary {
  step: number;
  status: SubmissionScore['status'];
  score?: number;
  normalised?: number;
  relativeImprovement?: number;
  success: boolean;
  reason?: string;
}

/** The `session` query's answer, and the workflow's result once done. */
export interface EnvSessionView {
  sessionId: string;
  task: string;
  status: 'preparing' | 'ready' | 'done' | 'failed';
  step: number;
  maxSteps: number;
  done: boolean;
  endReason?: EnvSessionEnd;
  /** Why the session could not be prepared. */
  error?: string;
  title?: string;
  metric?: SubmissionScore['metric'];
  baseline?: number;
  reference?: number;
  rewardForm: EnvSessionLimits['reward'];
  totalReward: number;
  lastAction?: SessionActionName;
  lastReward?: number;
  /** Best dev score of an `execute_code` so far. */
  bestDev?: ScoreSummary;
  /** The test split's score of the submission. */
  final?: ScoreSummary;
  startedAt: string;
  updatedAt: string;
  /** Workflow executions so far (continue-as-new). */
  executions: number;
}

/** Carried across continue-as-new. */
export interface EnvSessionState extends EnvSessionView {
  reset?: EnvResetResult;
  /** The last step's update id and result: a client that re-sends it after a lost reply gets the same answer. */
  last?: { stepId: string; result: EnvStepResult };
  /** Wall-time limits of the task's scoring runs, for the scorer's activity timeout. */
  scoringSeconds?: { full: number; validate: number };
  /** The sandbox host holding the session's workspace and hidden split (claimed when the session starts). */
  sandboxQueue?: string;
}

/** `runs/<sessionId>/env/steps/NNN.json` (step 0: the reset). */
export interface EnvStepRecord {
  session: string;
  task: string;
  step: number;
  action: SessionAction | { action: 'reset'; task: string };
  observation: SessionObservation;
  reward: number;
  done: boolean;
  info: StepInfo;
  /** ISO time the step ended (workflow time). */
  at: string;
  /** sha256 of the observation's JSON (added by the activity that writes the record). */
  observationSha256?: string;
}

export function stepRecordName(step: number): string {
  return `env/steps/${String(step).padStart(3, '0')}.json`;
}

export type { ArtifactRef };
