/**
 * Lab processes as a user runs them, for tests and benchmarks on real processes: a free port, a
 * lab worker as a child process (so SIGKILL hits the worker itself), and the `lab` CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../scripts/lib/paths.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.once('error', reject);
  });
}

/** SIGKILL, resolved once the process is gone (at once if it already is). */
export function sigkill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * `node --import tsx workers/main.ts` against the server on `port`, its output appended to
 * `logFile`; resolves once the research and LLM queues report ready.
 */
export async function startWorkerProcess(o: {
  port: number;
  labHome: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  readyWithinMs?: number;
  /** When the worker counts as ready, from its output so far (default: its research and LLM queues). */
  readyWhen?: (output: string) => boolean;
}): Promise<ChildProcess> {
  const log = createWriteStream(o.logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'main.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${o.port}`, LAB_HOME: o.labHome, LAB_WORKER_QUEUES: 'all', LAB_LITERATURE_BACKENDS: 'none', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const within = o.readyWithinMs ?? 120_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not get ready within ${within / 1000}s; see ${o.logFile}`)), within);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = o.readyWhen ? o.readyWhen(out) : out.includes('worker ready: research') && (out.includes('worker ready: llm') || !/llm/.test(o.env?.LAB_WORKER_QUEUES ?? 'all'));
      if (ready) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited early (code ${code}); see ${o.logFile}`));
    });
  });
  return child;
}

export interface LabResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node scripts/lab.mjs <args>` with `env` added; resolves when its output is all read ('close', not 'exit'). */
export function runLab(args: string[], env: NodeJS.ProcessEnv = {}, cwd = PROJECT_ROOT): Promise<LabResult> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr })));
}
