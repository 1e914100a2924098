/**
 * The experiment environment's step API (pure types and zod schemas; workflows import it).
 *
 * An agent sees an observation and picks one action; the action runs as an activity on the
 * `sandbox` queue inside the run's workspace and returns the next observation. This is the
 * contract the research agent's experiment loop uses, and the one a Gym-style server exposes.
 * Documented in docs/environment.md.
 */
import { z } from 'zod';
import { sharedSchema } from './sharedSchema.js';
import { artifactRefSchema } from './schemas.js';

/** A path inside the workspace: relative, no "..", no leading "/". */
export const workspacePathSchema = sharedSchema('environment.workspacePathSchema', () => z
  .string()
  .min(1)
  .max(300)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !/[\u0000-\u001f]/.test(p), {
    message: 'must be a relative path inside the workspace (no leading "/", no "..")',
  }));

export const envActionSchema = sharedSchema('environment.envActionSchema', () => z.discriminatedUnion('action', [
  z.object({ action: z.literal('write_file'), path: workspacePathSchema, content: z.string().max(200_000) }),
  z.object({ action: z.literal('read_file'), path: workspacePathSchema }),
  z.object({ action: z.literal('list_files'), path: workspacePathSchema.optional() }),
  z.object({
    action: z.literal('run'),
    /** A shell command, run with `sh -c` in the workspace. */
    command: z.string().min(1).max(4000),
    /** Wall-time limit for this command; capped by the session's limit. */
    timeoutSeconds: z.number().int().positive().max(24 * 3600).optional(),
  }),
  z.object({ action: z.literal('finish'), summary: z.string().max(4000) }),
]));
export type EnvAction = z.infer<typeof envActionSchema>;
export type EnvActionName = EnvAction['action'];

/** Which limit stopped a command, when one did. */
export const killReasonSchema = sharedSchema('environment.killReasonSchema', () => z.enum(['wall_time', 'cpu_time', 'memory', 'processes', 'output', 'disk', 'cancelled']));
export type KillReason = z.infer<typeof killReasonSchema>;

export const fileChangeSchema = sharedSchema('environment.fileChangeSchema', () => z.object({ path: z.string(), change: z.enum(['added', 'modified', 'deleted']), bytes: z.number().int().nonnegative() }));
export type FileChange = z.infer<typeof fileChangeSchema>;

/** What an action returns: small enough for history; full outputs are artifacts (refs). */
export const observationSchema = sharedSchema('environment.observationSchema', () => z.object({
  action: z.enum(['write_file', 'read_file', 'list_files', 'run', 'finish']),
  ok: z.boolean(),
  /** What the agent reads next: file content, a listing, or the tails of stdout/stderr (bounded). */
  text: z.string(),
  /** `run` only. */
  exitCode: z.number().int().optional(),
  killedBy: killReasonSchema.optional(),
  durationMs: z.number().nonnegative().optional(),
  stdoutBytes: z.number().int().nonnegative().optional(),
  stderrBytes: z.number().int().nonnegative().optional(),
  /** sha256 of stdout followed by stderr, for the provenance record. */
  outputSha256: z.string().optional(),
  /** Full stdout/stderr of a `run`, stored in the artifact store. */
  output: artifactRefSchema.optional(),
  filesChanged: z.array(fileChangeSchema).default([]),
  /** Why the action could not be carried out (bad path, file too large, ...), when `ok` is false. */
  error: z.string().optional(),
}));
export type Observation = z.infer<typeof observationSchema>;

export { sandboxLimitsSchema, type SandboxLimits } from './limits.js';
