/**
 * The Gym-style environment's processes for a test: a Temporal dev server, a lab worker (research
 * and sandbox queues) and `lab env serve`, each a child process logging to `<dir>/<name>.log`,
 * everything under a temporary LAB_HOME.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { spawnDevServer, waitForPort } from '../../scripts/lib/devServer.js';
import { PROJECT_ROOT } from '../../scripts/lib/paths.js';
import { freePort } from './labProcesses.js';

export { freePort };

/** Resolves once `port` refuses connections (nothing listens on it any more). */
export function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

export function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

export class EnvStack {
  temporalPort = 0;
  envPort = 0;
  client!: Client;
  private connection?: Connection;
  private temporal?: ChildProcess;
  private worker?: ChildProcess;
  private server?: ChildProcess;

  constructor(readonly dir: string) {}

  get labHome(): string {
    return path.join(this.dir, 'lab');
  }

  get url(): string {
    return `http://127.0.0.1:${this.envPort}`;
  }

  /** What every lab process of the stack sees. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const home = this.labHome;
    return {
      ...process.env,
      TEMPORAL_ADDRESS: `127.0.0.1:${this.temporalPort}`,
      LAB_HOME: home,
      // Everything under the temp LAB_HOME, whatever the shell exported.
      LAB_ARTIFACT_DIR: path.join(home, 'artifacts'),
      LAB_WORKSPACE_DIR: path.join(home, 'workspaces'),
      LAB_COMPETITION_HIDDEN_DIR: path.join(home, 'competition-hidden'),
      LAB_COMPETITION_SCORING_DIR: path.join(home, 'competition-scoring'),
      LAB_LITERATURE_BACKENDS: 'none',
      ...extra,
    };
  }

  async start(): Promise<void> {
    [this.temporalPort, this.envPort] = await Promise.all([freePort(), freePort()]);
    this.temporal = spawnDevServer({ port: this.temporalPort, uiPort: 0, dbFile: path.join(this.dir, 'temporal.db'), headless: true, logFile: path.join(this.dir, 'server.log') });
    await waitForPort(this.temporalPort, 60_000, this.temporal);
    this.connection = await Connection.connect({ address: `127.0.0.1:${this.temporalPort}` });
    this.client = new Client({ connection: this.connection });
    await this.startWorkerAndServer();
  }

  /** Starts the worker and `lab env serve` (again, after `kill`): on the same ports and database. */
  async startWorkerAndServer(): Promise<void> {
    const [worker, server] = await Promise.all([
      this.startChild('worker', ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'main.ts')], /worker ready: research/, this.env({ LAB_WORKER_QUEUES: 'research,sandbox' })),
      this.startChild('env-serve', [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), 'env', 'serve', '--port', String(this.envPort)], /serving on http:/),
    ]);
    this.worker = worker.child;
    this.server = server.child;
  }

  /** Stops the worker and the env server with the given signals; resolves to their exit codes. */
  async kill(workerSignal: NodeJS.Signals, serverSignal: NodeJS.Signals): Promise<{ worker: number | null; server: number | null }> {
    const [worker, server] = await Promise.all([stopChild(this.worker, workerSignal), stopChild(this.server, serverSignal)]);
    return { worker, server };
  }

  async stop(): Promise<void> {
    await stopChild(this.server, 'SIGKILL');
    await stopChild(this.worker, 'SIGKILL');
    await this.connection?.close();
    await stopChild(this.temporal, 'SIGKILL');
  }

  /** Spawns `node <args>` logging to `<dir>/<name>.log` and resolves once a stdout line matches `ready`. */
  startChild(name: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = this.env()): Promise<{ child: ChildProcess; line: string }> {
    const log = createWriteStream(path.join(this.dir, `${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not get ready within 90s; see ${this.dir}/${name}.log`)), 90_000);
      let seen = '';
      child.stdout!.on('data', (d: Buffer) => {
        seen += d.toString();
        const m = seen.split('\n').find((l) => ready.test(l));
        if (m) {
          clearTimeout(timer);
          resolve({ child, line: m });
        }
      });
      child.once('exit', (code) => reject(new Error(`${name} exited early (code ${code}); see ${this.dir}/${name}.log`)));
    });
  }
}
