/**
 * `lab server` and `lab worker` as users start them (`npx lab ...`, `node scripts/lab.mjs ...`),
 * each in a process group of its own. SIGTERM or SIGINT to the process the user started stops
 * everything it started: no process of its group or of its process tree (npm exec, sh, node,
 * temporal, esbuild) is left, and the stop was graceful (the workers finished shutting down, the
 * Temporal server was stopped and waited for). A worker starts quietly: one line per queue.
 *
 * Linux only: processes are read from /proc. Zombies count as gone (an orphan's zombie waits for
 * init to reap it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLM_QUEUES } from '../common/queues.js';
import { Connection } from '@temporalio/client';
import { LAB_SEARCH_ATTRIBUTES } from '../common/searchAttributes.js';
import { portOpen, readServerState, spawnDevServer, waitForPort } from '../scripts/lib/devServer.js';
import { temporalBinary } from '../scripts/lib/paths.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { LabWorkerLogger, quietBundlerOptions } from '../workers/createWorkers.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

const dir = tempDir('processes');
type Via = 'npx' | 'node';
type StopSignal = 'SIGTERM' | 'SIGINT';
/**
 * `pid`: the process the user started, as `kill $!` does. `group`: its whole process group, as
 * Ctrl-C in a terminal does (SIGINT to the foreground group). npm passes a signal to the `sh -c` it
 * runs `lab` in, and a shell waiting for a command ignores SIGINT meant for the command alone, so
 * SIGINT to npx's pid alone stops nothing (npx included); that case is not tested.
 */
type Target = 'pid' | 'group';

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  cmd: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), state: fields[0], cmd: cmdline || `[${comm}]` };
  } catch {
    return undefined; // gone between readdir and read
  }
}

function processes(): Proc[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is Proc => p !== undefined);
}

const live = (p: Proc) => p.state !== 'Z' && p.state !== 'X';

/** `root` and all its descendants. */
function processTree(root: number): Proc[] {
  const all = processes();
  const tree = all.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i].pid));
  return tree;
}

/** Live processes of the group, or among the pids recorded while it ran. */
function survivors(pgid: number, recorded: Proc[]): Proc[] {
  const pids = new Set(recorded.map((p) => p.pid));
  return processes().filter((p) => live(p) && (p.pgid === pgid || pids.has(p.pid)));
}

/** The environment without npm's variables, as a user's shell has it (vitest may run under npx). */
function shellEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), ...extra };
}

function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  return Promise.all(
    servers.map((s) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)))),
  ).then(async (ports) => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    return ports;
  });
}

class Launched {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // 'close', not 'exit': the process may be gone before its last output reaches us, and tests read that output.
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  }
  get pid(): number {
    return this.child.pid!;
  }
  /** stderr without npm's own notices (`npm warn ...`). */
  get errors(): string {
    return this.stderr
      .split('\n')
      .filter((l) => l.trim() && !/^npm (warn|notice)/.test(l))
      .join('\n');
  }
  waitForOutput(text: string, timeoutMs = 90_000): Promise<true> {
    return waitFor(
      async () => {
        if (this.stdout.includes(text)) return true;
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          throw new Error(`exited early (${this.child.exitCode ?? this.child.signalCode}):\n${this.stdout}\n${this.stderr}`);
        }
        return undefined;
      },
      `"${text}" from ${this.child.spawnargs.join(' ')}`,
      timeoutMs,
      100,
    );
  }
}

const launched: Launched[] = [];

/** Starts `lab <args>` the way a user would, in a process group of its own (pgid = its pid). */
function lab(via: Via, args: string[], env: NodeJS.ProcessEnv): Launched {
  const [cmd, argv] = via === 'npx' ? ['npx', ['lab', ...args]] : [process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), ...args]];
  const p = new Launched(spawn(cmd, argv, { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  launched.push(p);
  return p;
}

/** Sends `signal` to the process the user started or to its group, and waits until nothing of it is left. */
async function stopAndExpectNothingLeft(p: Launched, signal: StopSignal, target: Target, recorded: Proc[]): Promise<void> {
  process.kill(target === 'group' ? -p.pid : p.pid, signal);
  let left: Proc[] = [];
  try {
    await waitFor(async () => (left = survivors(p.pid, recorded)).length === 0 || undefined, 'every process to exit', 20_000, 100);
  } catch {
    // fall through to the assertion, which names what survived
  }
  expect(left.map((s) => `${s.pid} ${s.cmd}`), `survivors after ${signal} to the ${target}; output:\n${p.stdout}\n${p.stderr}`).toEqual([]);
}

function withLabHome<T>(home: string, fn: () => T): T {
  const saved = process.env.LAB_HOME;
  process.env.LAB_HOME = home;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.LAB_HOME;
    else process.env.LAB_HOME = saved;
  }
}

afterAll(() => {
  for (const p of launched) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const STOP_CASES: [Via, StopSignal, Target][] = [
  ['npx', 'SIGTERM', 'pid'],
  ['npx', 'SIGINT', 'group'],
  ['node', 'SIGTERM', 'pid'],
  ['node', 'SIGINT', 'pid'],
];

describe.concurrent('lab server', () => {
  it.each(STOP_CASES)('%s lab server: %s to the %s stops the Temporal server and removes server.json', async (via, signal, target) => {
    const home = path.join(dir, `server-${via}-${signal}-${target}`);
    const dbFile = path.join(home, 'db', 'temporal.db');
    const [port, uiPort] = await freePorts(2);
    const p = lab(via, ['server', '--port', String(port), '--ui-port', String(uiPort), '--db', dbFile], shellEnv({ LAB_HOME: home }));
    await p.waitForOutput('Temporal dev server on');

    const tree = processTree(p.pid);
    const temporal = tree.find((t) => t.cmd.includes('temporal server start-dev') && t.cmd.includes(`--port ${port}`));
    expect(temporal, tree.map((t) => t.cmd).join('\n')).toBeDefined();
    const labNode = tree.find((t) => t.pid === temporal!.ppid)!;
    expect(labNode.cmd).toMatch(/node .*lab(\.mjs)? server/);
    if (via === 'npx') expect(tree.map((t) => t.cmd).join('\n')).toMatch(/npm exec/);

    const state = JSON.parse(readFileSync(path.join(home, 'server.json'), 'utf8'));
    expect(state).toMatchObject({
      pid: labNode.pid,
      temporalPid: temporal!.pid,
      address: `localhost:${port}`,
      port,
      uiPort,
      uiUrl: `http://localhost:${uiPort}`,
      dbFile,
    });
    expect(Date.parse(state.startedAt)).toBeGreaterThan(Date.now() - 120_000);
    expect(withLabHome(home, readServerState)?.temporalPid).toBe(temporal!.pid);

    await stopAndExpectNothingLeft(p, signal, target, tree);
    expect(existsSync(path.join(home, 'server.json'))).toBe(false);
    expect(withLabHome(home, readServerState)).toBeUndefined();
    const exited = await p.exited;
    expect(p.stderr).toContain('stopping the Temporal server');
    // The node case: `lab` itself got the signal, stopped the server and exited cleanly.
    if (via === 'node') expect(exited).toEqual({ code: 0, signal: null });
  });

  it('adds the search attributes a database made by an older version lacks', async () => {
    const home = path.join(dir, 'server-old-db');
    const dbFile = path.join(home, 'temporal.db');
    const [port, uiPort] = await freePorts(2);
    // A database whose server knew only LabTask (as before the benchmark's attributes existed).
    mkdirSync(home, { recursive: true });
    const old = spawn(temporalBinary(), ['server', 'start-dev', '--headless', '--db-filename', dbFile, '--port', String(port), '--search-attribute', 'LabTask=Keyword'], { stdio: 'ignore' });
    await waitForPort(port, 60_000, old);
    await new Promise((resolve) => {
      old.once('exit', resolve);
      old.kill('SIGTERM');
    });
    const p = lab('node', ['server', '--port', String(port), '--ui-port', String(uiPort), '--db', dbFile], shellEnv({ LAB_HOME: home }));
    await p.waitForOutput('Temporal dev server on');
    try {
      const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      await connection.close();
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(LAB_SEARCH_ATTRIBUTES.map((k) => k.name)));
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('refuses a port in use, and readServerState ignores a state file whose process is gone', async () => {
    const home = path.join(dir, 'server-busy');
    const busy = net.createServer();
    const port = await new Promise<number>((resolve) => busy.listen(0, '127.0.0.1', () => resolve((busy.address() as net.AddressInfo).port)));
    try {
      const p = lab('node', ['server', '--port', String(port), '--db', path.join(home, 'temporal.db')], shellEnv({ LAB_HOME: home }));
      expect(await p.exited).toEqual({ code: 1, signal: null });
      expect(p.stderr).toContain(`port ${port} is already in use`);
    } finally {
      busy.close();
    }
    mkdirSync(home, { recursive: true });
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(path.join(home, 'server.json'), JSON.stringify({ pid: dead.pid, temporalPid: dead.pid, port }));
    expect(withLabHome(home, readServerState)).toBeUndefined();
    writeFileSync(path.join(home, 'server.json'), JSON.stringify({ pid: process.pid, temporalPid: process.pid, port }));
    expect(withLabHome(home, readServerState)?.pid).toBe(process.pid);
    // A second server on the database a running one uses is refused, whatever port it asks for.
    const dbFile = path.join(home, 'temporal.db');
    writeFileSync(path.join(home, 'server.json'), JSON.stringify({ pid: process.pid, temporalPid: process.pid, port, address: `localhost:${port}`, dbFile }));
    const [other] = await freePorts(1);
    const second = lab('node', ['server', '--port', String(other), '--db', dbFile], shellEnv({ LAB_HOME: home }));
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.stderr.trim()).toBe(`lab server: a lab server (pid ${process.pid}, localhost:${port}) already uses ${dbFile}; stop it first, or give another --db`);
    expect(await portOpen(other)).toBe(false);
  });
});

describe('lab worker', () => {
  const serverDir = path.join(dir, 'temporal');
  let server: ChildProcess;
  let address: string;

  beforeAll(async () => {
    const [port] = await freePorts(1);
    address = `localhost:${port}`;
    mkdirSync(serverDir, { recursive: true });
    server = spawnDevServer(
      { port, uiPort: 0, dbFile: path.join(serverDir, 'temporal.db'), headless: true, logFile: path.join(serverDir, 'server.log') },
      { detached: true },
    );
    await waitForPort(port, 60_000, server);
  });

  afterAll(() => {
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });

  const workerEnv = (name: string) => shellEnv({ LAB_HOME: path.join(dir, name), TEMPORAL_ADDRESS: address });
  const readyLines = (queues: string[]) =>
    queues.map((q) => (q === 'research' ? `worker ready: research (workflows + activities) on ${address}` : `worker ready: ${q} (activities)`));

  // Every case runs the whole stop; which queues a case serves varies so fewer of them bundle workflows.
  const WORKER_CASES: [Via, StopSignal, Target, string, string[]][] = [
    ['npx', 'SIGTERM', 'pid', 'research,llm', ['research', ...LLM_QUEUES]],
    ['npx', 'SIGINT', 'group', 'llm', [...LLM_QUEUES]],
    ['node', 'SIGTERM', 'pid', 'llm.openai', ['llm.openai']],
    ['node', 'SIGINT', 'pid', 'research,llm', ['research', ...LLM_QUEUES]],
  ];

  describe.concurrent('stops on a signal and starts quietly', () => {
    it.for(WORKER_CASES)('%s lab worker: %s to the %s shuts the workers down (queues %s)', async ([via, signal, target, queues, expected], { expect }) => {
      const p = lab(via, ['worker', '--queues', queues], workerEnv(`worker-${via}-${signal}-${target}`));
      const lines = readyLines(expected);
      await p.waitForOutput('worker ready');
      await waitFor(async () => lines.every((l) => p.stdout.includes(l)) || undefined, 'a ready line per queue', 5_000).catch(() => {});
      await new Promise((r) => setTimeout(r, 300)); // anything printed right after "ready" shows up too

      // Quiet start: one line per queue, nothing else (no webpack report, no SDK INFO, no "No workflows registered").
      expect.soft(p.stdout.trim().split('\n')).toEqual(lines);
      expect.soft(p.errors).toBe('');

      const tree = processTree(p.pid);
      expect(tree.some((t) => /node .*lab(\.mjs)? worker/.test(t.cmd)), tree.map((t) => t.cmd).join('\n')).toBe(true);
      await stopAndExpectNothingLeft(p, signal, target, tree);
      const exited = await p.exited;
      // Graceful: Worker.shutdown() ran to the end, the process was not just killed.
      expect(p.stderr).toContain('worker: stopped');
      if (via === 'node') expect(exited).toEqual({ code: 0, signal: null });
    });
  });

  it('--verbose shows the bundler report and the SDK INFO logs', async () => {
    const p = lab('node', ['worker', '--queues', 'research,llm.openai', '--verbose'], workerEnv('worker-verbose'));
    await p.waitForOutput('worker ready');
    const all = p.stdout + p.stderr;
    expect(all).toMatch(/webpack .* compiled successfully/);
    expect(all).toContain('[INFO]');
    // Expected by design (an llm.* worker runs no workflows), so not a warning even when verbose.
    expect(all).not.toContain('No workflows registered');
    await stopAndExpectNothingLeft(p, 'SIGTERM', 'pid', processTree(p.pid));
  });
});

describe('worker logging', () => {
  function capture(verbose: boolean) {
    const entries: LogEntry[] = [];
    return { logger: new LabWorkerLogger(verbose, (e) => entries.push(e)), entries };
  }

  it('drops INFO unless verbose, turns only the llm workers\' "No workflows registered" into DEBUG, keeps other warnings', () => {
    const quiet = capture(false);
    quiet.logger.info('Workflow bundle created', { taskQueue: 'research' });
    quiet.logger.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'llm.openai' });
    quiet.logger.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'research' });
    quiet.logger.warn('Activity heartbeat failed', { taskQueue: 'llm.openai' });
    quiet.logger.error('Worker failed', { taskQueue: 'llm.openai' });
    expect(quiet.entries.map((e) => [e.level, e.message])).toEqual([
      ['WARN', 'No workflows registered, not polling for workflow tasks'],
      ['WARN', 'Activity heartbeat failed'],
      ['ERROR', 'Worker failed'],
    ]);
    expect(quiet.entries[0].meta).toMatchObject({ taskQueue: 'research' });

    const verbose = capture(true);
    verbose.logger.info('Workflow bundle created', { taskQueue: 'research' });
    verbose.logger.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'llm.anthropic' });
    expect(verbose.entries.map((e) => e.level)).toEqual(['INFO']);
  });

  it("shows a line the SDK core repeats (a poll failing while the server is down) once a minute, with how often it came meanwhile", () => {
    const entries: LogEntry[] = [];
    let t = Date.parse('2026-12-02T08:00:00Z');
    const logger = new LabWorkerLogger(false, (e) => entries.push(e), () => t);
    // As the core sends it while the server is down: the retry count grows, the error is a Rust debug dump.
    const error =
      'Status { code: Unavailable, message: "tcp connect error", source: Some(tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:7233, Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))) }';
    const core = (n: number) => ['gRPC call poll_workflow_task_queue retried ' + n + ' times', { sdkComponent: 'core', target: 'temporalio_client::retry', error }] as const;
    for (let i = 1; i <= 30; i++, t += 1000) logger.warn(...core(i));
    logger.warn('Activity failed', { sdkComponent: 'worker', activityId: '1' });
    logger.warn('Activity failed', { sdkComponent: 'worker', activityId: '2' });
    t += 60_000;
    logger.warn(...core(31));
    expect(entries.map((e) => e.message)).toEqual([
      'gRPC call poll_workflow_task_queue retried 1 times: tcp connect error: ConnectionRefused',
      'Activity failed',
      'Activity failed',
      'gRPC call poll_workflow_task_queue retried 31 times: tcp connect error: ConnectionRefused (and 29 more times since 2026-12-02T08:00:00.000Z)',
    ]);
    expect(entries[0]!.meta).toEqual({ sdkComponent: 'core' });
  });

  it('the quiet bundle still logs webpack warnings at WARN', () => {
    const entries: LogEntry[] = [];
    const logger = new DefaultLogger('WARN', (e) => entries.push(e));
    const hook = quietBundlerOptions(() => logger).webpackConfigHook!;
    const config = hook({ plugins: [] } as never) as { plugins: { apply(compiler: unknown): void }[] };
    const taps: ((stats: unknown) => void)[] = [];
    const compiler = { hooks: { done: { tap: (_name: string, fn: (stats: unknown) => void) => taps.push(fn) } } };
    for (const plugin of config.plugins) plugin.apply(compiler);
    taps.forEach((fn) => fn({ hasErrors: () => false, hasWarnings: () => false, toString: () => '' }));
    // A failed build: the SDK itself logs the whole report at ERROR.
    taps.forEach((fn) => fn({ hasErrors: () => true, hasWarnings: () => true, toString: () => 'ERROR in ./workflows/x.ts' }));
    expect(entries).toEqual([]);
    taps.forEach((fn) => fn({ hasErrors: () => false, hasWarnings: () => true, toString: () => 'WARNING in ./workflows/x.ts: Critical dependency' }));
    expect(entries.map((e) => [e.level, e.message])).toEqual([['WARN', 'workflow bundle: WARNING in ./workflows/x.ts: Critical dependency']]);
  });
});
