/** Limits of sandboxed commands and of the experiment loop (pure; no imports from other schemas, to avoid cycles). */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';

/** Limits of one sandboxed command; defaults suit a small scikit-learn experiment on a laptop. */
export const sandboxLimitsSchema = sharedSchema('limits.sandboxLimitsSchema', () => z.object({
  wallSeconds: z.number().positive().default(600),
  cpuSeconds: z.number().positive().default(600),
  memoryMb: z.number().positive().default(2048),
  processes: z.number().int().positive().default(64),
  openFiles: z.number().int().positive().default(256),
  /** Largest file the command may write (and so a bound on disk written per file). */
  fileSizeMb: z.number().positive().default(256),
  /** Workspace size; over it the step is killed by `disk` (a hard limit where the host allows, docs/environment.md). */
  workspaceMb: z.number().positive().default(1024),
  /** Files, folders and links in the workspace together; over it the step is killed by `disk`. */
  workspaceFiles: z.number().int().positive().default(100_000),
  /** Folder levels below the workspace (and paths at most 4,000 bytes); deeper trees are refused as `disk`. */
  workspaceDepth: z.number().int().positive().max(512).default(64),
  /** stdout + stderr kept; beyond it the command is killed (`output`). */
  outputBytes: z.number().int().positive().default(8 * 1024 * 1024),
}));
export type SandboxLimits = z.output<typeof sandboxLimitsSchema>;

/**
 * Optional experiment backend (off by default): an external coding-agent CLI (e.g. Claude Code)
 * run once, as one long command, in the run's sandbox workspace instead of the step loop. It is
 * an explicit weakening of isolation only where the worker allows it (LAB_CODING_AGENT_NETWORK,
 * LAB_CODING_AGENT_ENV); see docs/environment.md.
 */
export const codingAgentSchema = sharedSchema('limits.codingAgentSchema', () => z.object({
  kind: z.literal('cli'),
  /** A shell command run with `sh -c` in the workspace, e.g. `claude -p "$(cat PROMPT.md)" --dangerously-skip-permissions`. */
  command: z.string().min(1).max(4000),
  /** Over the experiment's `sandbox` limits for this one command; wall and CPU time default to 30 minutes (capped by the experiment's wall time). */
  limits: sandboxLimitsSchema.partial().optional(),
}));
export type CodingAgent = z.output<typeof codingAgentSchema>;

/** Wall and CPU seconds of the coding-agent CLI when its `limits` do not say. */
export const CODING_AGENT_DEFAULT_SECONDS = 1800;

export const experimentLimitsSchema = sharedSchema('limits.experimentLimitsSchema', () => z.object({
  /** Agent steps (one action each), over all continue-as-new segments. */
  maxSteps: z.number().int().positive().max(500).default(30),
  /** Wall time for the whole experiment loop. */
  wallSeconds: z.number().positive().default(3600),
  /** Steps per workflow execution before continuing as new (history stays small). */
  stepsPerSegment: z.number().int().positive().max(200).default(10),
  sandbox: sandboxLimitsSchema.partial().default({}),
  /**
   * How long a step may wait for the run's sandbox host before the host is asked whether it is there
   * (absent: 600). A host that does not answer is lost: the experiment starts over on another host.
   */
  hostWaitSeconds: z.number().positive().max(86_400).optional(),
  /** Absent (the default): the step loop with the run's model. `{ kind: 'cli', command }`: a coding-agent CLI instead. */
  agent: codingAgentSchema.optional(),
}));
export type ExperimentLimits = z.output<typeof experimentLimitsSchema>;
