/** A host tool (coreutils, findutils, e2fsprogs, mount) run by the worker: a clean PATH, the C locale, a time limit. */
import { execFile } from 'node:child_process';

const TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface HostToolResult {
  ok: boolean;
  stdout: string;
  stderrLines: string[];
  /** The time limit stopped it (SIGKILL). */
  timedOut: boolean;
  /** Why it failed in one line when stderr said nothing (the spawn error). */
  error?: string;
}

/** Never rejects: the caller decides whether a failure is an error or a note. */
export function runHostTool(file: string, args: string[], timeoutMs: number): Promise<HostToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20, env: { PATH: TOOL_PATH, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const timedOut = Boolean(err && (err as { killed?: boolean }).killed);
      resolve({ ok: !err, stdout: String(stdout), stderrLines: String(stderr).split('\n').filter(Boolean), timedOut, ...(err ? { error: err.message } : {}) });
    });
  });
}
