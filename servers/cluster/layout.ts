/**
 * Where a cluster keeps its files (all under `<LAB_HOME>/cluster/`) and which ports it listens on.
 * Pure: nothing here touches the disk or the network.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { labHome } from '../../activities/config.js';

export interface ClusterPaths {
  root: string;
  /** `cluster.json`: what runs (pids, ports, shards), written by `up`, read by `status` and `down`. */
  stateFile: string;
  /** `database.json`: how the database was created (history shards can never change afterwards). */
  databaseFile: string;
  /** PostgreSQL's own password for the `temporal` role, made once, mode 0600. */
  passwordFile: string;
  /** The server's config (with the password in it, mode 0600) and its dynamic config. */
  serverConfig: string;
  dynamicConfig: string;
  /** The UI server reads `<uiConfigDir>/base.yaml`. */
  uiConfigDir: string;
  logs: string;
  serverLog: string;
  uiLog: string;
}

export function clusterPaths(env: NodeJS.ProcessEnv = process.env): ClusterPaths {
  const root = path.join(labHome(env), 'cluster');
  const logs = path.join(root, 'logs');
  return {
    root,
    stateFile: path.join(root, 'cluster.json'),
    databaseFile: path.join(root, 'database.json'),
    passwordFile: path.join(root, 'postgres-password'),
    serverConfig: path.join(root, 'temporal-server.yaml'),
    dynamicConfig: path.join(root, 'dynamic-config.yaml'),
    uiConfigDir: path.join(root, 'ui'),
    logs,
    serverLog: path.join(logs, 'temporal-server.log'),
    uiLog: path.join(logs, 'temporal-ui.log'),
  };
}

/** PostgreSQL's data folder unless `--pg-data` says otherwise. */
export function defaultPostgresDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(clusterPaths(env).root, 'postgres');
}

/**
 * Under root PostgreSQL runs as another user, who may not reach LAB_HOME (under /root, or in a
 * private temp folder); its data then goes here instead, one folder per LAB_HOME.
 */
export function rootFallbackDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const id = createHash('sha256').update(labHome(env)).digest('hex').slice(0, 12);
  return path.join('/var/lib/durable-lab', `postgres-${id}`);
}

/**
 * The Temporal server's ports: `--port` (what TEMPORAL_ADDRESS names) and the nine above it, for the
 * services inside the one server process (history, matching, worker), their membership ring, the
 * frontend's HTTP API and the Prometheus metrics. The UI defaults to `--port` + 1000, where the
 * dev server puts its UI and where `lab`'s run links look; PostgreSQL has its own port.
 */
export interface ClusterPorts {
  frontend: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  frontendHttp: number;
  metrics: number;
  /** null without a UI. */
  ui: number | null;
  postgres: number;
}

/** How many ports above `--port` the server takes. */
export const PORTS_ABOVE_FRONTEND = 9;
/**
 * The highest `--port`: the server records its membership ports (`--port` + 4 to + 7) in a
 * PostgreSQL smallint column, and refuses to start with one above 32767.
 */
export const MAX_FRONTEND_PORT = 32_767 - 7;
export const DEFAULT_FRONTEND_PORT = 7233;
/** Beside a system PostgreSQL's 5432, which a private instance must not take. */
export const DEFAULT_POSTGRES_PORT = 5433;

export function clusterPorts(frontend: number, ui: number | null, postgres: number): ClusterPorts {
  return {
    frontend,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 3,
    frontendMembership: frontend + 4,
    historyMembership: frontend + 5,
    matchingMembership: frontend + 6,
    workerMembership: frontend + 7,
    frontendHttp: frontend + 8,
    metrics: frontend + 9,
    ui,
    postgres,
  };
}

/** Each port with what it is for, for "port in use" messages and `status`. */
export function portRoles(ports: ClusterPorts): Array<{ role: string; port: number }> {
  const roles: Array<{ role: string; port: number }> = [
    { role: 'frontend gRPC (TEMPORAL_ADDRESS)', port: ports.frontend },
    { role: 'history gRPC', port: ports.history },
    { role: 'matching gRPC', port: ports.matching },
    { role: 'worker service gRPC', port: ports.worker },
    { role: 'frontend membership', port: ports.frontendMembership },
    { role: 'history membership', port: ports.historyMembership },
    { role: 'matching membership', port: ports.matchingMembership },
    { role: 'worker service membership', port: ports.workerMembership },
    { role: 'frontend HTTP API', port: ports.frontendHttp },
    { role: 'Prometheus metrics', port: ports.metrics },
  ];
  if (ports.ui !== null) roles.push({ role: 'Temporal UI', port: ports.ui });
  roles.push({ role: 'PostgreSQL', port: ports.postgres });
  return roles;
}
