/**
 * The experiment stage's child workflow, `experimentRun`: its input, the state it carries across
 * continue-as-new, and its result. Pure (workflows import it).
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';
import { envActionSchema, observationSchema } from './environment.js';
import { experimentLimitsSchema } from './limits.js';
import { artifactRefSchema, budgetSchema, llmCallRecordSchema, usageSchema } from './schemas.js';

export { codingAgentSchema, experimentLimitsSchema, type CodingAgent, type ExperimentLimits } from './limits.js';

export const experimentEndSchema = sharedSchema('experiment.experimentEndSchema', () => z.enum(['finished', 'max_steps', 'wall_time', 'budget']));
export type ExperimentEnd = z.infer<typeof experimentEndSchema>;

/** Carried from one execution to the next when the loop continues as new. */
export const experimentStateSchema = sharedSchema('experiment.experimentStateSchema', () => z.object({
  step: z.number().int().nonnegative(),
  startedAtMs: z.number(),
  /** The step records so far (JSON lines), in the artifact store. */
  transcript: artifactRefSchema.optional(),
  /** The last action's observation, not yet in the transcript. */
  pending: z.object({ thought: z.string().optional(), action: envActionSchema, observation: observationSchema }).optional(),
  usage: usageSchema,
  calls: z.array(llmCallRecordSchema).default([]),
  model: z.string().optional(),
  /** Result files (results/*.csv|tsv|json) the agent's commands have written so far. */
  resultFiles: z.array(z.string()).optional(),
  /** Times a finish was refused for want of a result file. */
  finishRefusals: z.number().int().nonnegative().optional(),
  /** The queue of the sandbox host the workspace lives on (claimed at the first step). */
  sandboxQueue: z.string().optional(),
  /** Hosts this experiment lost, with the steps that had run when each was lost; it started over after each. */
  hostsLost: z.array(z.object({ queue: z.string(), atStep: z.number().int().nonnegative() })).optional(),
  /** A host that stopped answering, while a host is claimed again (it may come back and be claimed). */
  lostHost: z.object({ queue: z.string(), atStep: z.number().int().nonnegative() }).optional(),
  /** The loop had ended when the host was lost: only the results are left to collect. */
  ended: z.object({ end: experimentEndSchema, summary: z.string().optional() }).optional(),
}));
export type LostHost = NonNullable<ExperimentState['hostsLost']>[number];
export type ExperimentState = z.output<typeof experimentStateSchema>;

export const experimentRunInputSchema = sharedSchema('experiment.experimentRunInputSchema', () => z.object({
  runId: z.string().min(1),
  model: z.string().min(1),
  reasoningEffort: z.enum(['low', 'medium', 'high']).optional(),
  task: artifactRefSchema,
  /** idea, related work, proposal: what the agent implements. */
  inputs: z.record(z.string(), artifactRefSchema),
  revision: z.object({ feedback: z.string(), previous: artifactRefSchema, number: z.number().int() }).optional(),
  limits: experimentLimitsSchema.default({ maxSteps: 30, wallSeconds: 3600, stepsPerSegment: 10, sandbox: {} }),
  budgetLeft: budgetSchema.optional(),
  /** What the agent is told to do: a research experiment, or improve a competition's methods/. */
  brief: z.enum(['research', 'competition']).default('research'),
  state: experimentStateSchema.optional(),
  /** The sandbox host's queue when the parent already claimed one (a competition's prepared workspace is there). */
  sandboxQueue: z.string().optional(),
}));
export type ExperimentRunInput = z.input<typeof experimentRunInputSchema>;

/** What the experiment child workflow reports back to the research run (references and counts only). */
export interface ExperimentOutcome {
  status: 'succeeded' | 'failed_experiment';
  reason?: string;
  end: ExperimentEnd;
  results: import('./schemas.js').ArtifactRef;
  log: import('./schemas.js').ArtifactRef;
  transcript?: import('./schemas.js').ArtifactRef;
  files: Array<import('./schemas.js').ArtifactRef>;
  measured: Array<import('./schemas.js').ArtifactRef>;
  provenance: { checked: number; matched: number; unmatched: number };
  steps: number;
  commands: number;
  usage: import('./schemas.js').Usage;
  calls: Array<import('./schemas.js').LlmCallRecord>;
  model: string;
  /** Sandbox hosts lost on the way (the experiment started over on another host after each). */
  hostsLost?: LostHost[];
}

/** The experiment child workflow's live state, for `lab status`. */
export interface ExperimentProgress {
  step: number;
  maxSteps: number;
  lastAction?: string;
  lastOutcome?: string;
  end?: ExperimentEnd;
  hostsLost?: LostHost[];
}
