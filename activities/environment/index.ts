/**
 * The experiment environment's activities (on the `sandbox` queue, where the workspaces are):
 * `envStep` carries out one action in the run's workspace and returns the observation;
 * `envPreflight` proves the sandbox works before any paid call; `envSnapshot` lists the workspace.
 * The step API is documented in docs/environment.md.
 */
import { promises as fs } from 'node:fs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { envActionSchema, sandboxLimitsSchema, type EnvAction, type FileChange, type Observation, type SandboxLimits } from '../../common/environment.js';
import type { ArtifactRef } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import { isCompetitionRun } from '../competition/paths.js';
import { withHeartbeat } from '../heartbeat.js';
import { sandboxBackendFromEnv, SandboxConfigError, type ExecResult, type SandboxBackend } from '../sandbox/index.js';
import { formatBytes, listWorkspace, readWorkspaceText, refused, writeWorkspaceFile } from './fileActions.js';
import { diffSnapshots, emptyWorkspace, ensureWorkspace, snapshotDirectory, snapshotWorkspace, WorkspacePathError, type WorkspaceSnapshot } from './workspace.js';

export {
  diffSnapshots,
  ensureWorkspace,
  readWorkspaceFile,
  resolveInWorkspace,
  snapshotWorkspace,
  workspaceDir,
  WorkspacePathError,
  type WorkspaceEntry,
  type WorkspaceSnapshot,
} from './workspace.js';

export interface EnvStepInput {
  runId: string;
  /** The step's number in the run: names its output artifact. */
  step: number;
  action: EnvAction;
  /** Over the defaults of `sandboxLimitsSchema`; a `run` action's `timeoutSeconds` lowers the wall time. */
  limits?: Partial<SandboxLimits>;
}

export interface EnvironmentDeps {
  store: ArtifactStore;
  /** Default: the backend `LAB_SANDBOX` names. */
  backend?: SandboxBackend;
}

/** Lines of changed files an observation shows (the full list is in `filesChanged`). */
const CHANGES_SHOWN = 40;

export function createEnvironmentActivities({ store, backend = sandboxBackendFromEnv() }: EnvironmentDeps) {
  return {
    async envStep(input: EnvStepInput): Promise<Observation> {
      const workspace = await ensureWorkspace(input.runId).catch((err) => {
        throw err instanceof WorkspacePathError ? ApplicationFailure.nonRetryable(err.message, 'InvalidInput') : err;
      });
      const limitsParsed = sandboxLimitsSchema.safeParse(input.limits ?? {});
      if (!limitsParsed.success) throw ApplicationFailure.nonRetryable(`invalid sandbox limits: ${limitsParsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidInput');
      const limits = limitsParsed.data;
      const parsed = envActionSchema.safeParse(input.action);
      const name = (input.action as { action?: unknown } | undefined)?.action;
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'action'}: ${i.message}`).join('; ');
        if (!isActionName(name)) throw ApplicationFailure.nonRetryable(`invalid action: ${why}`, 'InvalidInput');
        return refused(name, `invalid ${name} action: ${why}`);
      }
      const action = parsed.data;
      try {
        switch (action.action) {
          case 'write_file':
            return await writeWorkspaceFile(workspace, action.path, action.content, limits);
          case 'read_file':
            return await readWorkspaceText(workspace, action.path);
          case 'list_files':
            return await listWorkspace(workspace, action.path);
          case 'finish':
            return { action: 'finish', ok: true, text: 'finished', filesChanged: [] };
          case 'run':
            return await runCommand({
              store,
              backend,
              runId: input.runId,
              step: input.step,
              workspace,
              command: action.command,
              limits: withTimeout(limits, action.timeoutSeconds),
              // A competition's agent must not copy a bundled data set into methods/ for scoring to look up.
              hideBundledData: isCompetitionRun(input.runId),
            });
        }
      } catch (err) {
        if (err instanceof WorkspacePathError) return refused(action.action, err.message);
        if (err instanceof SandboxConfigError) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
        throw err;
      }
    },

    /** One message per problem that would stop an experiment: empty when the sandbox is ready. */
    async envPreflight(): Promise<string[]> {
      return withHeartbeat(() => backend.preflight(), () => ({ check: 'sandbox' }));
    },

    /** The run's workspace: every entry with size, mtime and (small files) sha256. */
    async envSnapshot(input: { runId: string }): Promise<WorkspaceSnapshot> {
      try {
        return await withHeartbeat(() => snapshotWorkspace(input.runId), () => ({ runId: input.runId }));
      } catch (err) {
        if (err instanceof WorkspacePathError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        throw err;
      }
    },

    /**
     * Empties the run's workspace on this host: an experiment that started over after losing its
     * host may land on a host that still holds a workspace of the attempt before (one that came back).
     */
    async emptyWorkspace(input: { runId: string }): Promise<void> {
      try {
        await emptyWorkspace(input.runId);
      } catch (err) {
        if (err instanceof WorkspacePathError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        throw err;
      }
    },
  };
}

export type EnvironmentActivities = ReturnType<typeof createEnvironmentActivities>;

function isActionName(name: unknown): name is Observation['action'] {
  return typeof name === 'string' && ['write_file', 'read_file', 'list_files', 'run', 'finish'].includes(name);
}

function withTimeout(limits: SandboxLimits, timeoutSeconds: number | undefined): SandboxLimits {
  return timeoutSeconds ? { ...limits, wallSeconds: Math.min(limits.wallSeconds, timeoutSeconds) } : limits;
}

async function runCommand(opts: {
  store: ArtifactStore;
  backend: SandboxBackend;
  runId: string;
  step: number;
  workspace: string;
  command: string;
  limits: SandboxLimits;
  hideBundledData: boolean;
}): Promise<Observation> {
  const ctx = Context.current();
  const before = await snapshotDirectory(opts.workspace);
  let progress = { elapsedSeconds: 0, outputBytes: 0 };
  const result = await withHeartbeat(
    () =>
      opts.backend.exec(
        { workspace: opts.workspace, command: opts.command, limits: opts.limits, hideBundledData: opts.hideBundledData },
        {
          signal: ctx.cancellationSignal,
          onProgress: (p) => (progress = { elapsedSeconds: Math.round(p.elapsedMs / 1000), outputBytes: p.outputBytes }),
        },
      ),
    () => ({ step: opts.step, action: 'run', ...progress }),
  );
  let output;
  try {
    output = await opts.store.put(opts.runId, `experiment/steps/${String(opts.step).padStart(3, '0')}-output.txt`, await fs.readFile(result.outputFile), 'text/plain');
  } finally {
    await fs.rm(result.outputFile, { force: true });
  }
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new CancelledFailure('cancelled');
  const after = await snapshotDirectory(opts.workspace);
  const filesChanged = diffSnapshots(before, after);
  let text = runText(opts.command, result, filesChanged, opts.backend.warning);
  // A workspace too big or too odd to list whole: the agent is told its list of changes is partial.
  if (after.note) text += `\nnote: ${after.note}`;
  for (const n of result.notes ?? []) text += `\nnote: ${n}`;
  return runObservation(result, text, output, filesChanged);
}

/** The observation of a finished command: how it ended, `text` for the agent, the stored output, the files it changed. */
export function runObservation(
  result: Pick<ExecResult, 'exitCode' | 'killedBy' | 'durationMs' | 'stdoutBytes' | 'stderrBytes' | 'outputSha256'>,
  text: string,
  output: ArtifactRef | undefined,
  filesChanged: FileChange[],
): Observation {
  return {
    action: 'run',
    ok: result.exitCode === 0 && !result.killedBy,
    text,
    exitCode: result.exitCode,
    ...(result.killedBy ? { killedBy: result.killedBy } : {}),
    durationMs: result.durationMs,
    stdoutBytes: result.stdoutBytes,
    stderrBytes: result.stderrBytes,
    outputSha256: result.outputSha256,
    output,
    filesChanged,
  };
}

/** What the agent reads after a command: how it ended, the tails of its output, what it changed. */
function runText(command: string, r: ExecResult, changes: Observation['filesChanged'], warning?: string): string {
  const lines: string[] = [];
  if (warning) lines.push(warning);
  lines.push(`$ ${command.length > 300 ? `${command.slice(0, 300)}...` : command}`);
  lines.push(`exit code ${r.exitCode}${r.signal ? ` (${r.signal})` : ''} after ${(r.durationMs / 1000).toFixed(1)} s`);
  if (r.killedBy) lines.push(`stopped: ${r.killedDetail ?? r.killedBy}`);
  const section = (name: string, tail: string, bytes: number) => {
    if (!bytes) return `${name}: (empty)`;
    const shown = Buffer.byteLength(tail);
    return `${name} (${bytes <= shown ? `${bytes} bytes` : `last ${shown} of ${bytes} bytes`}):\n${tail.replace(/\n$/, '')}`;
  };
  lines.push(section('stdout', r.stdoutTail, r.stdoutBytes), section('stderr', r.stderrTail, r.stderrBytes));
  if (changes.length) {
    const shown = changes.slice(0, CHANGES_SHOWN).map((c) => `  ${c.change} ${c.path}${c.change === 'deleted' ? '' : ` (${formatBytes(c.bytes)})`}`);
    if (changes.length > CHANGES_SHOWN) shown.push(`  ... and ${changes.length - CHANGES_SHOWN} more`);
    lines.push(`files changed:\n${shown.join('\n')}`);
  } else {
    lines.push('files changed: none');
  }
  return lines.join('\n');
}
