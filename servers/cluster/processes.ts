/**
 * Background processes of the cluster: started detached (they outlive `lab cluster up`), found
 * again by pid (checked against the program's path, since a pid can be reused once the process is
 * gone), and stopped with SIGTERM, then SIGKILL after a grace period.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/** Starts `bin args` in its own process group with stdout and stderr appended to `logFile`; returns its pid. */
export function spawnDetached(bin: string, args: string[], logFile: string, o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, { cwd: o.cwd, env: o.env ?? process.env, detached: true, stdio: ['ignore', out, out] });
    if (child.pid === undefined) throw new Error(`could not start ${bin}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** True while `pid` runs `bin` (its executable, or the first word of its command line). */
export function processRuns(pid: number | null | undefined, bin: string): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    if (readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '') === bin) return true;
  } catch {
    // another user's process (EACCES), or no /proc: fall back to the command line
  }
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === bin;
  } catch {
    // no /proc (not Linux): the pid being alive is all we can tell
    return process.platform !== 'linux';
  }
}

/** A zombie (exited, not yet reaped by its parent) still answers kill(pid, 0). */
function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves with how it ended. */
export async function stopProcess(pid: number, graceMs: number): Promise<'stopped' | 'killed' | 'not running'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not running';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (exited(pid)) return 'stopped';
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  while (!exited(pid)) await sleep(100);
  return 'killed';
}

/** True when nothing listens on 127.0.0.1:port (we could bind it ourselves). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The last `lines` lines of a log file, for error messages; '' when it cannot be read. The server
 * logs JSON with a stack trace in each line: only level, message and error are kept.
 */
export function logTail(file: string, lines = 6): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
        return [entry.level, entry.msg, entry.error].filter(Boolean).join(': ');
      } catch {
        return line;
      }
    })
    .join('\n');
}

/** Runs a program to its end and gives its exit code and its stdout and stderr together. */
export function runCollecting(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; text: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.once('error', (err) => resolve({ code: -1, text: err.message }));
    child.once('close', (code) => resolve({ code: code ?? -1, text }));
  });
}
