/** What every sandbox backend offers: run one shell command in a workspace under limits. */
import type { KillReason, SandboxLimits } from '../../common/environment.js';

export type SandboxBackendName = 'bwrap' | 'unsafe-process' | 'docker';

export interface ExecRequest {
  /** Host folder seen as `/workspace` (or used as the cwd, unsafe): the command's only writable place. */
  workspace: string;
  /** Run with `sh -c` in the workspace. */
  command: string;
  limits: SandboxLimits;
  /** Where the full output goes; a temporary file when absent (the caller removes it). */
  outputFile?: string;
  /**
   * Weakens isolation, for the coding-agent CLI only (LAB_CODING_AGENT_NETWORK=1): the command
   * shares the host's network. Default false: no network (unsafe-process always has it).
   */
  shareNetwork?: boolean;
  /**
   * Weakens isolation, for the coding-agent CLI only (LAB_CODING_AGENT_ENV): variables added to
   * the cleared environment (a provider's API key). Never put on a command line (`ps` would show them).
   */
  extraEnv?: Record<string, string>;
  /**
   * Hide the data sets that Python packages bundle (scikit-learn's digits, breast cancer, ...):
   * competition runs, whose test splits some of them are the source of. Trusted data preparation
   * leaves it off. Backends that cannot hide files say so in docs/environment.md.
   */
  hideBundledData?: boolean;
}

/** A variable name that `extraEnv` accepts (also safe to write into a shell file). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ExecProgress {
  elapsedMs: number;
  /** stdout + stderr bytes so far. */
  outputBytes: number;
}

export interface ExecOptions {
  /** Aborting kills the whole process tree; the result says `killedBy: 'cancelled'`. */
  signal?: AbortSignal;
  /** Called about once a second while the command runs. */
  onProgress?: (progress: ExecProgress) => void;
}

export interface ExecResult {
  /** The shell's exit code; 128 + n when the command died of signal n. */
  exitCode: number;
  /** The signal that ended the command, when one did. */
  signal?: NodeJS.Signals;
  /** The limit that stopped the command (or `cancelled`). */
  killedBy?: KillReason;
  /** One sentence on which limit and its value, when `killedBy` is set (for `disk`: bytes, files or depth, and what became of the step's files). */
  killedDetail?: string;
  /** What else the agent should know: entries a host-side walk skipped, a second limit reached. */
  notes?: string[];
  durationMs: number;
  /** Bytes kept (at most `limits.outputBytes` together). */
  stdoutBytes: number;
  stderrBytes: number;
  /** The last few KB of each stream, as text. */
  stdoutTail: string;
  stderrTail: string;
  /** sha256 of stdout followed by stderr (the bytes kept). */
  outputSha256: string;
  /** The full output, readable: command, stdout, stderr, exit line. */
  outputFile: string;
  /** Measured over the whole process tree while it ran (sampled). */
  usage: { cpuSeconds: number; peakMemoryMb: number; peakProcesses: number };
}

export interface SandboxBackend {
  readonly name: SandboxBackendName;
  /** False for `unsafe-process`: the command sees the host. */
  readonly isolated: boolean;
  /** Shown once at the top of every `run` observation (the unsafe backend's warning). */
  readonly warning?: string;
  exec(request: ExecRequest, options?: ExecOptions): Promise<ExecResult>;
  /** Starts a real process: no network, the sandbox Python imports its packages. One message per problem. */
  preflight(): Promise<string[]>;
}

/** The sandbox cannot work as configured (missing bwrap, no sandbox Python): retrying will not help. */
export class SandboxConfigError extends Error {
  override name = 'SandboxConfigError';
}
