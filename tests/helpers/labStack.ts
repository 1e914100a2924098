/**
 * A local lab deployment made of real processes, for tests that kill parts of it: a Temporal server
 * (by default a dev server on a SQLite file, so it comes back after a SIGKILL with its history; or
 * the PostgreSQL cluster, tests/cluster/clusterServer.ts) and any number of `lab worker` processes.
 * Each can be SIGKILLed and started again on the same port, database and folder.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { spawnDevServer, waitForPort } from '../../scripts/lib/devServer.js';
import { freePort, sigkill, startWorkerProcess } from './labProcesses.js';

/** The stack's Temporal server: started, SIGKILLed and started again on the same port and data. */
export interface StackServer {
  /** Starts the server (again, after a kill) and resolves with its frontend port once it answers. */
  start(): Promise<number>;
  kill(): Promise<void>;
  /** Restarts the server's database under it, where it has one of its own (PostgreSQL). */
  restartDatabase?(): Promise<void>;
  stop(): Promise<void>;
}

/** A dev server on a SQLite file in `dir`, on a port chosen at the first start. */
export function devServer(dir: string): StackServer {
  let port = 0;
  let server: ChildProcess | undefined;
  return {
    async start() {
      port ||= await freePort();
      server = spawnDevServer({ port, uiPort: 0, dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
      await waitForPort(port, 60_000, server);
      return port;
    },
    kill: () => sigkill(server),
    stop: () => sigkill(server),
  };
}

export interface LabStackOptions {
  /** Folder for the server's database and logs, and the workers' LAB_HOME folders. */
  dir: string;
  workers: number;
  /** Environment every worker gets (store settings, tuning). */
  workerEnv?: NodeJS.ProcessEnv;
  /**
   * Whether the workers share one LAB_HOME (one host: they share the LLM call cache and the
   * sandbox workspaces) or each has its own (hosts that share nothing but Temporal and the store).
   */
  sharedHome?: boolean;
  /** The Temporal server (default: a dev server in `dir`). */
  server?: StackServer;
}

export class LabStack {
  port = 0;
  client!: Client;
  readonly server: StackServer;
  private connection?: Connection;
  private readonly workers: Array<ChildProcess | undefined>;
  /** Worker starts under way, so a kill never lands on a worker that is still starting. */
  private readonly starting: Array<Promise<void> | undefined>;

  constructor(private readonly o: LabStackOptions) {
    mkdirSync(o.dir, { recursive: true });
    this.server = o.server ?? devServer(o.dir);
    this.workers = new Array(o.workers).fill(undefined);
    this.starting = new Array(o.workers).fill(undefined);
  }

  /** Server, client and every worker, ready. */
  async start(): Promise<this> {
    await this.startServer();
    this.connection = await Connection.connect({ address: `127.0.0.1:${this.port}` });
    this.client = new Client({ connection: this.connection });
    await Promise.all(this.workers.map((_, i) => this.startWorker(i)));
    return this;
  }

  labHome(worker: number): string {
    return path.join(this.o.dir, this.o.sharedHome === false ? `lab-${worker}` : 'lab');
  }

  /** The server on this stack's port and database (again, after a kill). */
  async startServer(): Promise<void> {
    this.port = await this.server.start();
  }

  async killServer(): Promise<void> {
    await this.server.kill();
  }

  /** Starts worker `i` and resolves once its research and LLM queues poll. */
  startWorker(i: number): Promise<void> {
    const start = startWorkerProcess({
      port: this.port,
      labHome: this.labHome(i),
      logFile: path.join(this.o.dir, `worker-${i}.log`),
      env: this.o.workerEnv,
      readyWithinMs: 120_000,
    }).then((child) => {
      this.workers[i] = child;
    });
    this.starting[i] = start;
    return start;
  }

  /** SIGKILLs worker `i` (after any start under way has finished). */
  async killWorker(i: number): Promise<void> {
    await this.starting[i];
    await sigkill(this.workers[i]);
    this.workers[i] = undefined;
  }

  /** Resolves once no worker is starting. */
  async workersReady(): Promise<void> {
    await Promise.all(this.starting);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.starting);
    for (const w of this.workers) await sigkill(w);
    await this.connection?.close().catch(() => undefined);
    await this.server.stop();
  }
}
