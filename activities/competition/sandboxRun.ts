/** One command of the scorer in the sandbox: the folder is its /workspace, the output comes back as text. */
import { promises as fs } from 'node:fs';
import { sandboxLimitsSchema, type KillReason, type SandboxLimits } from '../../common/environment.js';
import type { ExecOptions, SandboxBackend } from '../sandbox/index.js';

export interface SandboxRun {
  ok: boolean;
  exitCode: number;
  killedBy?: KillReason;
  killedDetail?: string;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
  /** The whole output as the sandbox records it (command, stdout, stderr, exit line), capped. */
  output: string;
}

/** Output kept per command in the scoring log. */
const LOG_BYTES = 256 * 1024;

/**
 * Runs one command of the competition machinery. Untrusted by default: the packages' bundled data
 * sets are hidden (a test split may come from one); only the task's own prepare.py is `trusted`.
 */
export async function runInSandbox(
  backend: SandboxBackend,
  folder: string,
  command: string,
  limits: Partial<SandboxLimits>,
  options: ExecOptions = {},
  how: { trusted?: boolean } = {},
): Promise<SandboxRun> {
  const result = await backend.exec({ workspace: folder, command, limits: sandboxLimitsSchema.parse(limits), hideBundledData: !how.trusted }, options);
  let output = '';
  try {
    const body = await fs.readFile(result.outputFile);
    output = body.length > LOG_BYTES ? `[first ${body.length - LOG_BYTES} bytes left out]\n${body.subarray(body.length - LOG_BYTES).toString('utf8')}` : body.toString('utf8');
  } finally {
    await fs.rm(result.outputFile, { force: true });
  }
  if (result.notes?.length) output += `\n${result.notes.map((n) => `note: ${n}`).join('\n')}`;
  return {
    ok: result.exitCode === 0 && !result.killedBy,
    exitCode: result.exitCode,
    ...(result.killedBy ? { killedBy: result.killedBy, killedDetail: result.killedDetail } : {}),
    durationMs: result.durationMs,
    stdoutTail: result.stdoutTail,
    stderrTail: result.stderrTail,
    output,
  };
}

/** Why a command failed, in one short paragraph: the limit that stopped it, or its exit code and last words. */
export function failureReason(run: SandboxRun, what: string): string {
  if (run.killedBy) return `${what} was stopped by the ${run.killedBy} limit${run.killedDetail ? ` (${run.killedDetail})` : ''}`;
  const last = lastLines(run.stderrTail || run.stdoutTail, 6);
  return `${what} exited with code ${run.exitCode}${last ? `: ${last}` : ''}`;
}

export function lastLines(text: string, n: number): string {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const kept = lines.slice(-n).join('\n');
  return kept.length > 1500 ? `...${kept.slice(-1500)}` : kept;
}

/** The last line of stdout that parses as a JSON object. */
export function lastJsonLine(stdout: string): Record<string, unknown> | undefined {
  for (const line of stdout.split('\n').reverse()) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v = JSON.parse(t) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // not the line we want
    }
  }
  return undefined;
}
