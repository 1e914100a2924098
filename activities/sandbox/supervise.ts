/**
 * Runs one prepared sandbox process and enforces what the kernel limits inside cannot: wall time,
 * output size, cancellation, and tree-wide CPU, memory, process and workspace-size limits (sampled
 * from /proc). Keeps the full output in a file, the tails for the observation, and its sha256.
 * Shared by every backend; a backend supplies the argv and how to kill its tree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants as osConstants } from 'node:os';
import type { KillReason, SandboxLimits } from '../../common/environment.js';
import type { MemoryReading } from './memoryCgroup.js';
import { processIdentity } from './ownedNames.js';
import { descendants, pidNamespaceOf, processesInNamespace, readProcessTable, sharedAwareMemoryBytes, treeUsage, type TreeProcess } from './processTree.js';
import { SandboxConfigError, type ExecOptions, type ExecRequest, type ExecResult } from './types.js';
import type { DiskVerdict } from './workspaceDisk.js';
import { removeCreatedSince, scanTree, workspaceBounds } from './workspaceSize.js';

export interface PreparedProcess {
  file: string;
  args: string[];
  /** The environment of the spawned process itself (bwrap, docker, sh): never the worker's own. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Contents for the child's fds 3, 4, ... (bwrap `--ro-bind-data`), written then closed. */
  dataFds?: string[];
  /**
   * Tree levels that belong to the sandbox itself, not the command (bwrap: its outer process and
   * the namespace's init). Their CPU counts (init collects the CPU of reaped orphans), their
   * processes and memory do not. `undefined`: the tree is not on this host (docker); no sampling.
   */
  helperLevels?: number;
  /** The command runs in a PID namespace of its own (bwrap): the step waits until it is empty. */
  pidNamespace?: boolean;
  /**
   * Kill everything the command started, while the spawned process is alive (so `pid` and the
   * tree, read just now by parent links, are ours: never a recycled pid, never a name match).
   */
  killTree(pid: number, tree: TreeProcess[]): void;
  /** After the spawned process ended: kill what it may have left running outside its tree. */
  afterExit?(pid: number): void;
  /** What `bwrap: ...` or `docker: ...` says on stderr when the sandbox itself could not start. */
  setupErrorPattern?: RegExp;
  /**
   * The command's memory cgroup: the kernel enforces `memoryMb` for everything inside; an OOM kill
   * there stops the whole command. Without it the supervisor samples Pss, memfd and `tmpfsInside`.
   */
  memory?: { read(): MemoryReading };
  /** tmpfs folders inside the sandbox (its /tmp, /dev/shm) whose pages count as the command's memory. */
  tmpfsInside?: string[];
  /**
   * Hard workspace limits (the kernel's, on a file system of the command's own): `sample` says
   * which limit is reached (cheap), `settle` keeps or discards the command's changes. Without it
   * the supervisor walks the workspace (bounded) every 2 s and after the command.
   */
  workspace?: { sample(): string | undefined; settle(stoppedByDisk: string | undefined): Promise<DiskVerdict> };
}

const SAMPLE_MS = 250;
const DISK_SAMPLE_EVERY = 8;
/** Samples in a row with the workspace's file system full before the command is stopped. */
const FULL_GRACE_SAMPLES = 4;
const TAIL_BYTES = 4096;
const CLOSE_GRACE_MS = 2000;
/** How long a step waits, after its command ended, for the kernel to finish killing the rest of its PID namespace. */
const NAMESPACE_GONE_MS = 5000;
const FORCE_KILL_MS = 1000;

export const KILL_DETAIL: Record<KillReason, (l: SandboxLimits) => string> = {
  wall_time: (l) => `wall-time limit reached (${l.wallSeconds} s)`,
  cpu_time: (l) => `CPU-time limit reached (${l.cpuSeconds} s)`,
  memory: (l) => `memory limit reached (${l.memoryMb} MB)`,
  processes: (l) => `process limit reached (${l.processes} processes and threads)`,
  output: (l) => `output limit reached (${l.outputBytes} bytes of stdout and stderr)`,
  disk: (l) => `disk limit reached (one file over ${l.fileSizeMb} MB, or no space left in the workspace (${l.workspaceMb} MB, ${l.workspaceFiles} files), /tmp or /dev/shm)`,
  cancelled: () => 'cancelled',
};

let staleTempsRemoved = false;

/**
 * Scratch files (`lab-exec-*` folders, `lab-output-*` files) are removed on every path; those of a
 * worker that crashed carry its pid and start time in their names and go at the next command.
 */
export async function supervise(prepared: PreparedProcess, request: ExecRequest, options: ExecOptions = {}): Promise<ExecResult> {
  if (!staleTempsRemoved) {
    staleTempsRemoved = true;
    await removeStaleTemps();
  }
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), `lab-exec-${processIdentity(process.pid) ?? process.pid}-`));
  const outputFile = request.outputFile ?? path.join(os.tmpdir(), `lab-output-${path.basename(scratch)}.txt`);
  const streams = {
    stdout: new CappedStream(path.join(scratch, 'stdout')),
    stderr: new CappedStream(path.join(scratch, 'stderr')),
  };
  let done = false;
  try {
    const result = await superviseIn(prepared, request, options, scratch, outputFile, streams);
    done = true;
    return result;
  } finally {
    streams.stdout.destroy();
    streams.stderr.destroy();
    await fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
    // The caller owns the output file only when a result reaches it.
    if (!done && !request.outputFile) await fs.rm(outputFile, { force: true }).catch(() => undefined);
  }
}

async function removeStaleTemps(): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^(?:lab-output-)?lab-exec-(\d+)-(\d+)-/.exec(name);
    if (m && processIdentity(Number(m[1])) !== `${m[1]}-${m[2]}`) await fs.rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

async function superviseIn(
  prepared: PreparedProcess,
  request: ExecRequest,
  options: ExecOptions,
  scratch: string,
  outputFile: string,
  streams: { stdout: CappedStream; stderr: CappedStream },
): Promise<ExecResult> {
  const { limits } = request;
  // Sampled workspace limits: a workspace already over them when the step starts (so that the
  // agent can clean it up) is checked after the step only.
  const bounds = workspaceBounds(limits);
  const sampleDisk = !prepared.workspace && !(await scanTree(request.workspace, bounds, limits)).over;
  const started = Date.now();
  let killedBy: KillReason | undefined;
  let killedDetail: string | undefined;
  const notes: string[] = [];
  const usage = { cpuSeconds: 0, peakMemoryMb: 0, peakProcesses: 0 };

  let child: ChildProcess;
  try {
    child = spawn(prepared.file, prepared.args, {
      env: prepared.env,
      cwd: prepared.cwd,
      stdio: ['ignore', 'pipe', 'pipe', ...(prepared.dataFds ?? []).map(() => 'pipe' as const)],
      // Own process group: the worker's Ctrl-C does not reach it, and the group can be killed whole.
      detached: true,
    });
  } catch (err) {
    throw new SandboxConfigError(`cannot start ${prepared.file}: ${(err as Error).message}`);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  // The sandbox's own PID namespace (bwrap --unshare-pid), read from its first process once it exists:
  // when the step ends, the step is not over until every process in it is gone.
  const ownNamespace = pidNamespaceOf(process.pid);
  let sandboxNamespace: string | undefined;
  let probes = 0;
  const findNamespace = () => {
    // Found, or not there after 2 s: stop looking.
    if (sandboxNamespace || ++probes > 400) return clearInterval(namespaceProbe);
    if (child.pid === undefined) return;
    for (const p of descendants(readProcessTable(), child.pid)) {
      const ns = pidNamespaceOf(p.pid);
      if (ns && ns !== ownNamespace) {
        sandboxNamespace = ns;
        return;
      }
    }
  };
  // Only a backend with a PID namespace is probed: scanning /proc every 5 ms is not free.
  const namespaceProbe: NodeJS.Timeout | undefined = prepared.pidNamespace ? setInterval(findNamespace, 5) : undefined;
  (prepared.dataFds ?? []).forEach((data, i) => {
    const fd = child.stdio[3 + i] as (NodeJS.WritableStream & NodeJS.EventEmitter) | null;
    // A sandbox that failed to start closes its end early: that is reported by its exit, not here.
    fd?.on('error', () => undefined);
    fd?.end(data);
  });
  child.stdout!.on('error', () => undefined);
  child.stderr!.on('error', () => undefined);

  // Until Node reaps it (and sets these), the spawned pid cannot be recycled.
  const alive = () => child.exitCode === null && child.signalCode === null;
  const kill = (reason: KillReason, detail?: string) => {
    if (!killedBy) {
      killedBy = reason;
      killedDetail = detail;
    }
    if (child.pid === undefined || !alive()) return;
    const tree = prepared.helperLevels !== undefined ? descendants(readProcessTable(), child.pid) : [];
    prepared.killTree(child.pid, tree);
    // Whatever the backend's way, the process this worker started goes too.
    setTimeout(() => alive() && child.kill('SIGKILL'), FORCE_KILL_MS).unref();
  };

  const total = () => streams.stdout.bytes + streams.stderr.bytes;
  const onData = (which: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const allowed = limits.outputBytes - total();
    streams[which].write(allowed >= chunk.length ? chunk : chunk.subarray(0, Math.max(0, allowed)));
    if (allowed < chunk.length) {
      kill('output');
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
  };
  child.stdout!.on('data', onData('stdout'));
  child.stderr!.on('data', onData('stderr'));
  const streamsClosed = Promise.all([once(child.stdout!, 'close'), once(child.stderr!, 'close')]);

  // setTimeout fires at once past 2^31-1 ms (about 24.8 days).
  const wallTimer = setTimeout(() => kill('wall_time'), Math.min(2 ** 31 - 1, Math.ceil(limits.wallSeconds * 1000)));
  const onAbort = () => kill('cancelled');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort);

  let samples = 0;
  let diskCheck: Promise<void> | undefined;
  let workspaceFull: string | undefined;
  let fullSamples = 0;
  const sampleTree = (pid: number) => {
    const tree = descendants(readProcessTable(), pid);
    const command = tree.filter((p) => p.depth >= prepared.helperLevels!);
    const all = treeUsage(tree);
    const own = treeUsage(command);
    usage.cpuSeconds = Math.max(usage.cpuSeconds, all.cpuSeconds);
    usage.peakProcesses = Math.max(usage.peakProcesses, own.tasks);
    const memory = memoryNow(prepared, command);
    usage.peakMemoryMb = Math.max(usage.peakMemoryMb, memory.bytes / 2 ** 20);
    if (own.tasks >= limits.processes) kill('processes');
    else if (all.cpuSeconds > limits.cpuSeconds) kill('cpu_time');
    else if (memory.oomKills > 0 || memory.bytes > limits.memoryMb * 2 ** 20) kill('memory', memoryDetail(limits, !!prepared.memory));
  };
  const sampleWorkspace = () => {
    if (prepared.workspace) {
      // The kernel already refuses the writes; a command still full a second later is stopped
      // (one that frees space at once, or reports and exits, is left to do so).
      const full = prepared.workspace.sample();
      fullSamples = full ? fullSamples + 1 : 0;
      workspaceFull ??= full;
      if (full && fullSamples >= FULL_GRACE_SAMPLES) kill('disk', full);
    } else if (sampleDisk && samples % DISK_SAMPLE_EVERY === 0 && !diskCheck) {
      diskCheck = scanTree(request.workspace, bounds, limits)
        .then((scan) => {
          if (scan.over) kill('disk', scan.over);
        })
        .catch(() => undefined)
        .finally(() => {
          diskCheck = undefined;
        });
    }
  };
  // The workspace is watched for every backend; the process tree only where it is on this host (not docker).
  const sampler = setInterval(() => {
    if (child.pid === undefined || child.exitCode !== null) return;
    samples += 1;
    if (prepared.helperLevels !== undefined) sampleTree(child.pid);
    sampleWorkspace();
  }, SAMPLE_MS);
  const progressTimer = options.onProgress ? setInterval(() => options.onProgress!({ elapsedMs: Date.now() - started, outputBytes: total() }), 1000) : undefined;

  const exit = await Promise.race([
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    spawnError.then((err) => ({ err })),
  ]);
  clearTimeout(wallTimer);
  if (namespaceProbe) clearInterval(namespaceProbe);
  clearInterval(sampler);
  if (progressTimer) clearInterval(progressTimer);
  options.signal?.removeEventListener('abort', onAbort);
  if ('err' in exit) {
    throw new SandboxConfigError(`cannot start ${prepared.file}: ${exit.err.message}`);
  }
  // The command is over: anything it left running (a daemon holding the pipes) goes too.
  prepared.afterExit?.(child.pid!);
  if (sandboxNamespace) await namespaceGone(sandboxNamespace);
  const closedInTime = await Promise.race([streamsClosed.then(() => true), delay(CLOSE_GRACE_MS).then(() => false)]);
  if (!closedInTime) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  await diskCheck;
  const durationMs = Date.now() - started;
  await Promise.all([streams.stdout.close(), streams.stderr.close()]);

  const stdout = await fs.readFile(streams.stdout.file);
  const stderr = await fs.readFile(streams.stderr.file);
  const stderrTail = tailText(stderr);
  if (prepared.setupErrorPattern && exit.code !== 0 && !killedBy && stdout.length === 0 && prepared.setupErrorPattern.test(stderrTail)) {
    throw new SandboxConfigError(`the sandbox could not start: ${stderrTail.split('\n').filter((l) => l.trim()).slice(-3).join(' / ')}`);
  }
  const signal = exit.signal ?? signalOfExitCode(exit.code);
  const exitCode = exit.code ?? 128 + (osConstants.signals[exit.signal as NodeJS.Signals] ?? 0);
  // An OOM kill the sampler had no time to see (the command ended first) still names the limit.
  if (prepared.memory && prepared.helperLevels !== undefined && prepared.memory.read().oomKills > 0) kill('memory', memoryDetail(limits, true));
  if (!killedBy && exitCode !== 0) killedBy = inferLimit(signal, stderrTail, usage.cpuSeconds, limits);
  // A disk limit found after the command: the step's reason, unless another limit stopped it first (then a note).
  const overDisk = (detail: string) => {
    if (!killedBy || killedBy === 'disk') {
      killedBy = 'disk';
      killedDetail = detail;
    } else notes.push(detail);
  };
  if (prepared.workspace) {
    workspaceFull ??= prepared.workspace.sample();
    const verdict = await prepared.workspace.settle(workspaceFull);
    notes.push(...verdict.notes);
    if (verdict.overDetail) overDisk(verdict.overDetail);
  } else {
    const after = await scanTree(request.workspace, bounds, limits);
    if (after.over) {
      // Over-limit content must not stay and stop every later step: what this step created goes.
      const problems = await removeCreatedSince(request.workspace, started);
      overDisk(`${after.over}; the files and folders this step created were removed${problems.length ? ` (not all: ${problems[0]})` : ''}`);
    }
    if (after.skipped.length) notes.push(...after.skipped.map((s) => `workspace check skipped: ${s}`));
  }
  const detail = killedBy ? (killedDetail ?? KILL_DETAIL[killedBy](limits)) : undefined;

  const outputSha256 = createHash('sha256').update(stdout).update(stderr).digest('hex');
  const exitLine = `--- exit code ${exitCode}${signal ? ` (${signal})` : ''} after ${(durationMs / 1000).toFixed(2)} s${detail ? `; stopped: ${detail}` : ''} ---\n${notes.map((n) => `--- note: ${n} ---\n`).join('')}`;
  await fs.writeFile(
    outputFile,
    Buffer.concat([
      Buffer.from(`$ ${request.command}\n--- stdout (${stdout.length} bytes) ---\n`),
      stdout,
      Buffer.from(`${stdout.length && stdout[stdout.length - 1] !== 10 ? '\n' : ''}--- stderr (${stderr.length} bytes) ---\n`),
      stderr,
      Buffer.from(`${stderr.length && stderr[stderr.length - 1] !== 10 ? '\n' : ''}${exitLine}`),
    ]),
  );
  return {
    exitCode,
    ...(signal ? { signal } : {}),
    ...(killedBy ? { killedBy, killedDetail: detail } : {}),
    ...(notes.length ? { notes } : {}),
    durationMs,
    stdoutBytes: stdout.length,
    stderrBytes: stderr.length,
    stdoutTail: tailText(stdout),
    stderrTail,
    outputSha256,
    outputFile,
    usage: { cpuSeconds: round(usage.cpuSeconds), peakMemoryMb: round(usage.peakMemoryMb), peakProcesses: usage.peakProcesses },
  };
}

/**
 * A failed command whose limit the kernel enforced (rlimits) shows it in its signal or its last
 * words: SIGXCPU / SIGXFSZ, Python's MemoryError, "Resource temporarily unavailable" from fork.
 */
export function inferLimit(signal: NodeJS.Signals | undefined, stderrTail: string, cpuSeconds: number, limits: SandboxLimits): KillReason | undefined {
  if (signal === 'SIGXCPU' || (signal === 'SIGKILL' && cpuSeconds >= limits.cpuSeconds - 1)) return 'cpu_time';
  if (signal === 'SIGXFSZ' || /File too large|No space left on device|Disk quota exceeded/.test(stderrTail)) return 'disk';
  if (/MemoryError|Cannot allocate memory|std::bad_alloc|out of memory/i.test(stderrTail)) return 'memory';
  if (/Resource temporarily unavailable|Cannot fork|can't start new thread|fork: retry/i.test(stderrTail)) return 'processes';
  return undefined;
}

/** Shells and bwrap report a command killed by signal n as exit code 128 + n. */
function signalOfExitCode(code: number | null): NodeJS.Signals | undefined {
  if (code === null || code <= 128 || code > 128 + 64) return undefined;
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === code - 128);
  return entry?.[0] as NodeJS.Signals | undefined;
}

/** UTF-8 text of the last few KB, starting at a character boundary. */
export function tailText(buffer: Buffer, bytes = TAIL_BYTES): string {
  let start = Math.max(0, buffer.length - bytes);
  if (start > 0) {
    // Whole lines where the cut is near a line break, else whole characters.
    const newline = buffer.indexOf(10, start);
    if (newline !== -1 && newline - start < 200 && newline + 1 < buffer.length) start = newline + 1;
    while (start < buffer.length && (buffer[start] & 0xc0) === 0x80) start += 1;
  }
  return buffer.subarray(start).toString('utf8');
}

class CappedStream {
  bytes = 0;
  private readonly out: WriteStream;
  constructor(readonly file: string) {
    this.out = createWriteStream(file);
  }
  write(chunk: Buffer): void {
    if (!chunk.length) return;
    this.bytes += chunk.length;
    this.out.write(chunk);
  }
  destroy(): void {
    this.out.destroy();
  }
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

function once(stream: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => stream.once(event, () => resolve()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** What the sandbox holds now: its cgroup's count, or the sampled Pss + shared memory of `command`. */
function memoryNow(prepared: PreparedProcess, command: TreeProcess[]): MemoryReading {
  if (prepared.memory) return prepared.memory.read();
  const pids = command.filter((p) => p.state !== 'Z').map((p) => p.pid);
  // The sandbox's tmpfs folders, seen through a process inside it (its root is the sandbox's).
  const inside = pids[0];
  const tmpfs = inside && prepared.tmpfsInside ? prepared.tmpfsInside.map((d) => `/proc/${inside}/root${d}`) : [];
  return { bytes: sharedAwareMemoryBytes(pids, tmpfs), oomKills: 0 };
}

function memoryDetail(limits: SandboxLimits, cgroup: boolean): string {
  return `memory limit reached (${limits.memoryMb} MB for the whole sandbox: processes, shared memory, memfd, /tmp and /dev/shm${cgroup ? '; enforced by a memory cgroup' : '; sampled'})`;
}

/** Waits until no process is left in PID namespace `ns` (the kernel kills them when its init dies). */
async function namespaceGone(ns: string): Promise<void> {
  const deadline = Date.now() + NAMESPACE_GONE_MS;
  while (processesInNamespace(ns).length && Date.now() < deadline) await delay(10);
}
