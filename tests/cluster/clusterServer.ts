/**
 * The PostgreSQL cluster as a test's server: ports for it, and a LabStack server (`lab cluster up`
 * in its own LAB_HOME) that can be SIGKILLed, brought back by `up`, and have PostgreSQL restarted.
 */
import { readFileSync } from 'node:fs';
import { restartPostgres } from '../../servers/cluster/cluster.js';
import { clusterPaths, PORTS_ABOVE_FRONTEND } from '../../servers/cluster/layout.js';
import { portFree } from '../../servers/cluster/processes.js';
import type { ClusterState } from '../../servers/cluster/state.js';
import { runLab } from '../helpers/labProcesses.js';
import type { StackServer } from '../helpers/labStack.js';
import { waitFor } from '../helpers/wait.js';

export interface ClusterPortBlock {
  /** The frontend's port; the server's other services use the nine above it. */
  base: number;
  ui: number;
  postgres: number;
}

/** A block of free ports for the server (--port and the nine above it), plus the UI's and PostgreSQL's. */
export async function freeClusterPorts(): Promise<ClusterPortBlock> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below 32767 with its membership ports (see MAX_FRONTEND_PORT), above the usual services.
    const b = 20_000 + Math.floor(Math.random() * 1_200) * 10;
    const all = [...Array(PORTS_ABOVE_FRONTEND + 1).keys()].map((i) => b + i).concat([b + 1000, b + 20]);
    if ((await Promise.all(all.map(portFree))).every(Boolean)) return { base: b, ui: b + 1000, postgres: b + 20 };
  }
  throw new Error('no free block of ports');
}

/** A process that ran and has not exited (a zombie waiting for init to reap it has exited). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The cluster of `labHome` (no UI) as a LabStack's server; stop() takes it down with its data. */
export function clusterServer(labHome: string, ports: ClusterPortBlock): StackServer {
  const env = { LAB_HOME: labHome, LAB_LITERATURE_BACKENDS: 'none' };
  const cluster = async (...args: string[]) => {
    const r = await runLab(['cluster', ...args], env);
    if (r.code !== 0) throw new Error(`lab cluster ${args[0]} failed (exit ${r.code}): ${r.stderr}`);
    return r;
  };
  return {
    async start() {
      await cluster('up', '--port', String(ports.base), '--pg-port', String(ports.postgres), '--no-ui');
      return ports.base;
    },
    async kill() {
      const { pid } = (JSON.parse(readFileSync(clusterPaths(env).stateFile, 'utf8')) as ClusterState).server;
      process.kill(pid, 'SIGKILL');
      await waitFor(async () => !alive(pid) || undefined, 'the killed Temporal server to exit', 10_000, 50);
    },
    restartDatabase: () => restartPostgres(env),
    async stop() {
      await cluster('down', '--delete-data');
    },
  };
}
