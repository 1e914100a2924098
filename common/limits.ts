/** Limits of sandboxed commands and of the experiment loop (pure; no imports from other schemas, to avoid cycles). */
import { z } from 'zod';

/** Limits of one sandboxed command; defaults suit a small scikit-learn experiment on a laptop. */
export const sandboxLimitsSchema = z.object({
  wallSeconds: z.number().positive().default(600),
  cpuSeconds: z.number().positive().default(600),
  memoryMb: z.number().positive().default(2048),
  processes: z.number().int().positive().default(64),
  openFiles: z.number().int().positive().default(256),
  /** Largest file the command may write (and so a bound on disk written per file). */
  fileSizeMb: z.number().positive().default(256),
  /** Workspace size after the command; over it, the step is recorded as killed by `disk`. */
  workspaceMb: z.number().positive().default(1024),
  /** stdout + stderr kept; beyond it the command is killed (`output`). */
  outputBytes: z.number().int().positive().default(8 * 1024 * 1024),
});
export type SandboxLimits = z.output<typeof sandboxLimitsSchema>;

export const experimentLimitsSchema = z.object({
  /** Agent steps (one action each), over all continue-as-new segments. */
  maxSteps: z.number().int().positive().max(500).default(30),
  /** Wall time for the whole experiment loop. */
  wallSeconds: z.number().positive().default(3600),
  /** Steps per workflow execution before continuing as new (history stays small). */
  stepsPerSegment: z.number().int().positive().max(200).default(10),
  sandbox: sandboxLimitsSchema.partial().default({}),
});
export type ExperimentLimits = z.output<typeof experimentLimitsSchema>;
