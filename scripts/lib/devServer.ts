/**
 * The local Temporal dev server: the Temporal CLI from .venv with a SQLite file for
 * persistence, the Web UI, and Durable Lab's search attributes registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { serverStateFile } from '../../activities/config.js';
import { LAB_SEARCH_ATTRIBUTES } from '../../common/searchAttributes.js';
import { handleShutdown } from '../../workers/env.js';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { CliError } from './client.js';
import { temporalBinary } from './paths.js';

export interface DevServerOptions {
  port: number;
  uiPort: number;
  dbFile: string;
  /** Where the server's output goes; 'inherit' shows it in the terminal. */
  logFile?: string;
  headless?: boolean;
  /** The server's own log level (default warn). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Task queue partitions the server reads (default 1; it always writes to one). 4 for a database
   * made before the dev server had one partition: tasks waiting in its partitions 1-3 still arrive.
   */
  readPartitions?: number;
}

export function devServerArgs(o: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--db-filename', o.dbFile, '--port', String(o.port), '--log-level', o.logLevel ?? 'warn'];
  if (o.headless) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  for (const key of LAB_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  // SQLite's default (a rollback journal synced on every commit) makes each history write wait for
  // the disk, and the dev server's one shard writes one at a time. A write-ahead log synced at
  // checkpoints keeps every commit through a crash of the server process (tests SIGKILL it); only
  // a power cut can lose the last few.
  args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  // A run's memo (its finished stages, for lab resume) passes the dev server's 2 KB warning mark
  // after a stage or two; the hard limit stays where it is.
  args.push('--dynamic-config-value', 'limit.memoSize.warn=65536');
  // The server's default spreads each task queue over 4 partitions; on one server that only adds
  // forwarding between them (a poll or task landing on a partition without a match is passed to the
  // root one). One partition cut the dev server's CPU in the 201-item sweep by about 16%.
  args.push('--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1');
  args.push('--dynamic-config-value', `matching.numTaskqueueReadPartitions=${o.readPartitions ?? 1}`);
  return args;
}

export function spawnDevServer(o: DevServerOptions, opts: { detached?: boolean } = {}): ChildProcess {
  const bin = temporalBinary();
  if (!existsSync(bin)) throw new Error(`Temporal CLI not found at ${bin}; run \`npm run setup\` first`);
  mkdirSync(path.dirname(path.resolve(o.dbFile)), { recursive: true });
  const out = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  return spawn(bin, devServerArgs({ ...o, readPartitions: o.readPartitions ?? readPartitionsFor(o.dbFile) }), { stdio: ['ignore', out, out], detached: opts.detached ?? false });
}

/**
 * 1 for a database made with one task queue partition (marked beside it when it is made), 4 for
 * one an older version made: its backlog may sit in partitions 1-3, which a single read partition
 * would never deliver (new tasks still go to partition 0 alone).
 */
export function readPartitionsFor(dbFile: string): number {
  const marker = `${dbFile}.one-partition`;
  if (!existsSync(dbFile)) writeFileSync(marker, 'this database was made with one task queue partition (Durable Lab)\n');
  return existsSync(marker) ? 1 : 4;
}

/** True once something accepts TCP connections on host:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the Temporal server exited early (code ${child.exitCode})`);
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Temporal server did not open port ${port} within ${timeoutMs / 1000}s`);
}

/** What `lab server` records in `${LAB_HOME}/server.json` while its port is open. */
export interface ServerState {
  /** The `lab server` process. */
  pid: number;
  /** Its `temporal server start-dev` child. */
  temporalPid: number;
  /** `localhost:<port>`, what TEMPORAL_ADDRESS would be. */
  address: string;
  port: number;
  /** null when headless. */
  uiPort: number | null;
  uiUrl: string | null;
  /** Absolute path of the SQLite file. */
  dbFile: string;
  /** ISO time the port opened. */
  startedAt: string;
}

export function serverStatePath(): string {
  return serverStateFile();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running `lab server`'s state, or undefined when none is recorded or its process is gone. */
export function readServerState(file = serverStatePath()): ServerState | undefined {
  let state: ServerState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as ServerState;
  } catch {
    return undefined;
  }
  if (!state || typeof state.pid !== 'number' || !processAlive(state.pid)) return undefined;
  return state;
}

function writeServerState(state: ServerState): void {
  const file = serverStatePath();
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

/** Removes server.json if it is still ours (another `lab server` may have written it since). */
function removeServerState(): void {
  try {
    const file = serverStatePath();
    if ((JSON.parse(readFileSync(file, 'utf8')) as ServerState).pid === process.pid) rmSync(file, { force: true });
  } catch {
    // missing or unreadable: nothing of ours to remove
  }
}

/** How long the Temporal server gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;

/**
 * `lab server`: starts the dev server as a child, prints one line once its port is open, records
 * server.json, and runs until the server exits or this process is asked to stop. The first
 * SIGINT/SIGTERM (or the npx that started it going away) sends SIGTERM to the server and waits for
 * it (SIGKILL after 5 s); a second signal kills it at once. Resolves with the exit code.
 */
export async function serveDevServer(opts: {
  port: number;
  uiPort: number;
  dbFile: string;
  verbose?: boolean;
  headless?: boolean;
}): Promise<number> {
  const { port, uiPort } = opts;
  const dbFile = path.resolve(opts.dbFile);
  if (await portOpen(port)) throw new CliError(`port ${port} is already in use (is a Temporal server already running?)`);
  // Two servers on one SQLite file would both write its history; the recorded one is still running.
  const other = readServerState();
  if (other && path.resolve(other.dbFile ?? '') === dbFile)
    throw new CliError(`a lab server (pid ${other.pid}, ${other.address}) already uses ${dbFile}; stop it first, or give another --db`);

  const child = spawnDevServer({ port, uiPort, dbFile, headless: opts.headless, logLevel: opts.verbose ? 'info' : 'warn' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      process.stderr.write(`lab server: ${err.message}\n`);
      resolve({ code: 1, signal: null });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  let stopping = false;
  let killTimer: NodeJS.Timeout | undefined;

  // Whatever ends this process (an error, process.exit elsewhere), the server must not outlive it.
  const onExit = () => {
    if (running()) child.kill('SIGTERM');
    removeServerState();
  };
  process.on('exit', onExit);
  const removeHandlers = handleShutdown({
    stop(reason) {
      stopping = true;
      process.stderr.write(`lab server: stopping the Temporal server (${reason}); press Ctrl-C again to force\n`);
      if (!running()) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        if (!running()) return;
        process.stderr.write(`lab server: the Temporal server did not stop within ${STOP_GRACE_MS / 1000}s; killing it\n`);
        child.kill('SIGKILL');
      }, STOP_GRACE_MS);
    },
    force() {
      if (running()) child.kill('SIGKILL');
      removeServerState();
      process.stderr.write('lab server: forced exit\n');
    },
  });

  try {
    const ready = await Promise.race([
      waitForPort(port, 60_000, child).then(
        () => true,
        (err: Error) => {
          if (stopping || !running()) return false; // it stopped; `exited` says how
          child.kill('SIGKILL');
          throw err;
        },
      ),
      exited.then(() => false),
    ]);
    if (ready && running() && !stopping) {
      await ensureSearchAttributes(port);
      writeServerState({
        pid: process.pid,
        temporalPid: child.pid!,
        address: `localhost:${port}`,
        port,
        uiPort: opts.headless ? null : uiPort,
        uiUrl: opts.headless ? null : `http://localhost:${uiPort}`,
        dbFile,
        startedAt: new Date().toISOString(),
      });
      const ui = opts.headless ? 'no UI' : `UI http://localhost:${uiPort}`;
      process.stdout.write(`Temporal dev server on localhost:${port}, ${ui}, data in ${dbFile}\n(Ctrl-C stops it)\n`);
    }
    const { code, signal } = await exited;
    // Asked to stop, or stopped by a signal meant for the whole group (Ctrl-C in the terminal).
    if (stopping || code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') return 0;
    process.stderr.write(`lab server: the Temporal server exited ${ready ? '' : 'early '}(${signal ?? `code ${code}`})\n`);
    return code || 1;
  } finally {
    if (killTimer) clearTimeout(killTimer);
    removeHandlers();
    process.off('exit', onExit);
    removeServerState();
  }
}

/**
 * The server registers `--search-attribute` keys only when it creates its database; one made by
 * an older version lacks the newer keys, and a workflow that sets a missing key fails its task.
 */
export async function ensureSearchAttributes(port: number, namespace = 'default'): Promise<string[]> {
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = LAB_SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !known.has(name));
    if (missing.length) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((name) => [name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
      });
    }
    return missing;
  } finally {
    await connection.close();
  }
}
