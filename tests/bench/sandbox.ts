/**
 * Sandbox start-up overhead per `run` action on this machine: 30 × `true` through each backend
 * (bubblewrap and unsafe-process), against a bare spawn of /bin/true, plus the sandbox Python's
 * start-up. Median and p95; printed, not asserted. `npm run bench:sandbox`.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BubblewrapBackend, UnsafeProcessBackend, type SandboxBackend } from '../../activities/sandbox/index.js';
import { sandboxLimitsSchema } from '../../common/environment.js';

const RUNS = 30;
const PYTHON_RUNS = 10;
const limits = sandboxLimitsSchema.parse({});

function stats(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms (n=${ms.length})`;
}

async function time(n: number, once: () => Promise<void>): Promise<number[]> {
  await once(); // warm-up: page cache, first /proc scan
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await once();
    out.push(performance.now() - t);
  }
  return out;
}

async function viaBackend(backend: SandboxBackend, workspace: string, command: string): Promise<void> {
  const r = await backend.exec({ workspace, command, limits });
  await fs.rm(r.outputFile, { force: true });
  if (r.exitCode !== 0) throw new Error(`${backend.name}: ${command} failed: ${r.stderrTail}`);
}

const workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'lab-bench-sandbox-'));
console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, node ${process.version}, ${process.getuid?.() === 0 ? 'root (privileged bwrap + own uid)' : 'user (bwrap in a user namespace)'}`);
const bare = await time(RUNS, () => new Promise((resolve, reject) => spawn('/bin/true').once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`exit ${c}`))))));
console.log(`${'bare spawn'.padEnd(16)}/bin/true        ${stats(bare)}`);
for (const backend of [new BubblewrapBackend(), new UnsafeProcessBackend()]) {
  const label = backend.name.padEnd(16);
  try {
    const t = await time(RUNS, () => viaBackend(backend, workspace, 'true'));
    const py = await time(PYTHON_RUNS, () => viaBackend(backend, workspace, 'python -c pass'));
    console.log(`${label}true             ${stats(t)}`);
    console.log(`${label}python -c pass   ${stats(py)}`);
  } catch (err) {
    console.log(`${label}not measured: ${(err as Error).message}`);
  }
}
await fs.rm(workspace, { recursive: true, force: true });
