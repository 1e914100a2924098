/**
 * A real Temporal cluster on one host without Docker: a private PostgreSQL, the Temporal server
 * (all four services in one process) with a chosen number of history shards, the Temporal UI
 * server, the namespace and the project's search attributes. `up` is idempotent (what runs is
 * kept, what is missing is started), `down` stops everything and keeps the data, `status` says
 * what runs. Workers and the CLI reach it through TEMPORAL_ADDRESS as they reach any server.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkObtainable, ensureBinary, SQL_TOOL, TEMPORAL_SERVER, TEMPORAL_SERVER_VERSION, UI_SERVER } from './binaries.js';
import { ClusterError } from './errors.js';
import { clusterPaths, clusterPorts, defaultPostgresDataDir, portRoles, rootFallbackDataDir, type ClusterPaths, type ClusterPorts } from './layout.js';
import { ensureNamespace, frontendHealthy, waitUntilHealthy, type FrontendAccess } from './namespace.js';
import { certificateHosts, ensureCertificates, isLoopback, tlsFiles } from './tls.js';
import * as postgres from './postgres.js';
import { logTail, portFree, processRuns, sleep, spawnDetached, stopProcess } from './processes.js';
import { createSchemas, TEMPORAL_DATABASE, updateSchemas, VISIBILITY_DATABASE } from './schema.js';
import { renderDynamicConfig, renderServerConfig, renderUiConfig } from './serverConfig.js';
import { DEFAULT_LISTEN, listenOf, readDatabaseRecord, readState, removeFile, writeJson, type ClusterState, type DatabaseRecord } from './state.js';

export const DEFAULT_HISTORY_SHARDS = 4;
export const MAX_HISTORY_SHARDS = 16_384;

export interface UpOptions {
  /** Frontend gRPC port; the server also takes the nine above it. */
  port: number;
  /** null: no UI server. */
  uiPort: number | null;
  pgPort: number;
  /** undefined: what the database was made with, else 4. */
  historyShards?: number;
  namespace: string;
  retentionDays: number;
  /** PostgreSQL's data folder; default `<LAB_HOME>/cluster/postgres`. */
  pgDataDir?: string;
  /** Where the frontend listens (default 127.0.0.1); any other address turns mutual TLS on. */
  listen?: string;
  /** Mutual TLS on the frontend even on 127.0.0.1. */
  tls?: boolean;
  /** More names the frontend's certificate must answer to (a DNS name workers use for this host). */
  tlsHosts?: string[];
  /** A new CA and new certificates (a key leaked, or the old ones expire); only while nothing runs. */
  newCertificates?: boolean;
}

type Log = (line: string) => void;

/** How long the Temporal server gets to stop after SIGTERM (it hands its shards back first). */
const SERVER_STOP_GRACE_MS = 30_000;
const START_TIMEOUT_MS = 120_000;

export function checkHistoryShards(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY_SHARDS) {
    throw new ClusterError(`--shards must be a whole number from 1 to ${MAX_HISTORY_SHARDS}, got ${n}`, true);
  }
}

/** One `lab cluster` command at a time per LAB_HOME: two `up`s would start two servers on one database. */
function takeLock(paths: ClusterPaths): () => void {
  mkdirSync(paths.root, { recursive: true });
  const file = `${paths.root}/.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8'));
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = holder > 0;
      } catch {
        // stale lock of a command that died
      }
      if (alive) throw new ClusterError(`another lab cluster command (pid ${holder}) is working on ${paths.root}; wait for it`);
      rmSync(file, { force: true });
    }
  }
  throw new ClusterError(`could not take the lock ${file}`);
}

function readOrMakePassword(paths: ClusterPaths): string {
  if (existsSync(paths.passwordFile)) return readFileSync(paths.passwordFile, 'utf8').trim();
  const password = randomBytes(24).toString('base64url');
  mkdirSync(paths.root, { recursive: true });
  writeFileSync(paths.passwordFile, `${password}\n`, { mode: 0o600 });
  return password;
}

async function postgresInstance(dataDir: string, port: number): Promise<postgres.PostgresInstance> {
  return { install: postgres.findPostgres(), user: await postgres.postgresUser(), dataDir, port };
}

/** Where PostgreSQL's data is: --pg-data, else where an earlier up put it, else under LAB_HOME (or, under root, where its user can reach). */
async function chooseDataDir(o: UpOptions, known: Array<string | undefined>, user: postgres.PostgresUser | undefined, log: Log): Promise<string> {
  if (o.pgDataDir) return path.resolve(o.pgDataDir);
  for (const dir of known) if (dir && postgres.isInitialised(dir)) return dir;
  const preferred = defaultPostgresDataDir();
  if (postgres.isInitialised(preferred) || (await postgres.makeDataDir(user, preferred))) return preferred;
  const fallback = rootFallbackDataDir();
  log(`PostgreSQL runs as user ${user!.name}, who cannot reach ${preferred} (a folder above it is closed to other users); its data goes to ${fallback}`);
  return fallback;
}

/** The data folder of the cluster recorded here, for status and down. */
function knownDataDir(paths: ClusterPaths, state: ClusterState | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const record = readDatabaseRecord(paths.databaseFile);
  return state?.postgres.dataDir ?? record?.dataDir ?? defaultPostgresDataDir(env);
}

/** The part of the state that `status` and `down` can trust: the recorded processes that still run. */
function running(state: ClusterState | undefined) {
  return {
    server: !!state && processRuns(state.server.pid, state.server.bin),
    ui: !!state?.ui && processRuns(state.ui.pid, state.ui.bin),
  };
}

async function checkPortsFree(ports: ClusterPorts, skip: Set<number>): Promise<void> {
  for (const { role, port } of portRoles(ports)) {
    if (skip.has(port)) continue;
    if (port > 65_535) throw new ClusterError(`port ${port} (${role}) is past 65535; choose a lower --port`, true);
    if (!(await portFree(port))) {
      throw new ClusterError(`port ${port} (${role}) is in use on 127.0.0.1; choose other ports (--port uses it and the nine above it; --ui-port, --pg-port)`, true);
    }
  }
}

export async function up(o: UpOptions, log: Log): Promise<ClusterState> {
  if (o.historyShards !== undefined) checkHistoryShards(o.historyShards);
  const paths = clusterPaths();
  const release = takeLock(paths);
  try {
    return await bringUp(o, paths, log);
  } finally {
    release();
  }
}

async function bringUp(o: UpOptions, paths: ClusterPaths, log: Log): Promise<ClusterState> {
  const ports = clusterPorts(o.port, o.uiPort, o.pgPort);
  const listen = o.listen ?? DEFAULT_LISTEN;
  // A frontend other hosts can reach takes clients with the cluster's certificates only.
  const useTls = Boolean(o.tls) || !isLoopback(listen);
  const previous = readState(paths.stateFile);
  const was = running(previous);
  if (previous && was.server) {
    const same =
      previous.ports.frontend === o.port &&
      previous.postgres.port === o.pgPort &&
      (o.historyShards ?? previous.historyShards) === previous.historyShards &&
      previous.namespace === o.namespace &&
      listenOf(previous) === listen &&
      Boolean(previous.tls) === useTls &&
      (!was.ui || previous.ports.ui === o.uiPort);
    if (!same) {
      const ui = was.ui ? `, UI on ${previous.ports.ui}` : '';
      const reach = `listening on ${listenOf(previous)}${previous.tls ? ' with TLS' : ''}`;
      throw new ClusterError(
        `the cluster already runs (${previous.address} ${reach}, ${previous.historyShards} shards, PostgreSQL on ${previous.postgres.port}, namespace ${previous.namespace}${ui}); run lab cluster down first to change its settings`,
        true,
      );
    }
  }

  if (o.newCertificates) {
    if (!useTls) throw new ClusterError('--new-certificates applies with --tls or a --listen address other than 127.0.0.1', true);
    if (was.server || was.ui) {
      throw new ClusterError('the server and UI run with the present certificates: run lab cluster down first, then lab cluster up --new-certificates (the data is kept)', true);
    }
  }

  // Missing programs that cannot be built here, before anything is made on disk.
  postgres.findPostgres();
  const pgUser = await postgres.postgresUser();
  for (const binary of [TEMPORAL_SERVER, SQL_TOOL]) await checkObtainable(binary);

  const record = readDatabaseRecord(paths.databaseFile);
  const dataDir = await chooseDataDir(o, [previous?.postgres.dataDir, record?.dataDir], pgUser, log);
  const pg = await postgresInstance(dataDir, o.pgPort);
  const database = record && record.dataDir === dataDir && postgres.isInitialised(dataDir) ? record : undefined;
  const historyShards = o.historyShards ?? database?.historyShards ?? DEFAULT_HISTORY_SHARDS;
  if (database && database.historyShards !== historyShards) {
    throw new ClusterError(
      `this cluster's database was made with ${database.historyShards} history shards, and Temporal cannot change that afterwards; ` +
        `leave out --shards, or start over with lab cluster down --delete-data (which deletes every run in it)`,
      true,
    );
  }

  // Everything that can be refused is refused before anything starts.
  const pgPid = await postgres.postgresPid(pg);
  if (pgPid !== undefined && previous && previous.postgres.dataDir === dataDir && previous.postgres.port !== o.pgPort) {
    throw new ClusterError(`PostgreSQL already runs for this cluster on port ${previous.postgres.port}; run lab cluster down first to move it to ${o.pgPort}`, true);
  }
  const ours = new Set<number>();
  if (pgPid !== undefined) ours.add(o.pgPort);
  if (was.server) portRoles(previous!.ports).filter((r) => r.role !== 'Temporal UI' && r.role !== 'PostgreSQL').forEach((r) => ours.add(r.port));
  if (was.ui && previous!.ports.ui !== null) ours.add(previous!.ports.ui);
  await checkPortsFree(ports, ours);

  const serverBin = await ensureBinary(TEMPORAL_SERVER, log);
  const sqlBin = await ensureBinary(SQL_TOOL, log);
  let uiBin: string | undefined;
  if (o.uiPort !== null) {
    try {
      uiBin = await ensureBinary(UI_SERVER, log);
    } catch (err) {
      log(`warning: no Temporal UI (${(err as Error).message.split('\n')[0]}); the README, "A real cluster without Docker", says how to have one`);
    }
  }

  mkdirSync(paths.logs, { recursive: true });
  const password = readOrMakePassword(paths);
  let fresh = false;
  if (!postgres.isInitialised(dataDir)) {
    log(`initialising PostgreSQL ${pg.install.version || ''} in ${dataDir}${pg.user ? ` (as user ${pg.user.name}: PostgreSQL does not run as root)` : ''}`.replace('  ', ' '));
    await postgres.initialise(pg, password);
    fresh = true;
    removeFile(paths.databaseFile);
  }
  if (pgPid === undefined) {
    log(`starting PostgreSQL on 127.0.0.1:${o.pgPort} (log ${postgres.logFile(dataDir)})`);
    await postgres.start(pg);
  }

  const sql = { sqlTool: sqlBin, port: o.pgPort, password };
  if (fresh || !database) {
    await createSchemas(sql, log);
    const made: DatabaseRecord = { historyShards, schemaVersion: TEMPORAL_SERVER_VERSION, createdAt: new Date().toISOString(), dataDir };
    writeJson(paths.databaseFile, made);
  } else if (database.schemaVersion !== TEMPORAL_SERVER_VERSION) {
    log(`updating the schema from ${database.schemaVersion} to ${TEMPORAL_SERVER_VERSION}`);
    await updateSchemas(sql);
    writeJson(paths.databaseFile, { ...database, schemaVersion: TEMPORAL_SERVER_VERSION });
  }

  if (o.newCertificates) {
    const old = tlsFiles(paths.root).dir;
    rmSync(old, { recursive: true, force: true });
    log(`removed the cluster's CA and certificates in ${old}: certificates of the old CA are refused from now on`);
  }
  const tls = useTls ? await ensureCertificates(paths.root, certificateHosts(listen, o.tlsHosts ?? []), log) : undefined;
  const access: FrontendAccess = { port: o.port, ...(tls ? { tls } : {}) };
  let serverPid = previous?.server.pid ?? 0;
  if (!was.server) {
    writeFileSync(paths.dynamicConfig, renderDynamicConfig());
    writeFileSync(
      paths.serverConfig,
      renderServerConfig({
        ports,
        historyShards,
        postgres: { user: postgres.POSTGRES_ROLE, password, database: TEMPORAL_DATABASE, visibilityDatabase: VISIBILITY_DATABASE },
        dynamicConfigFile: paths.dynamicConfig,
        listen,
        ...(tls ? { tls } : {}),
      }),
      { mode: 0o600 },
    );
    log(`starting the Temporal server ${TEMPORAL_SERVER_VERSION} on ${listen}:${o.port}${tls ? ' (mutual TLS)' : ''} with ${historyShards} history shards (log ${paths.serverLog})`);
    serverPid = spawnDetached(serverBin, ['--config-file', paths.serverConfig, '--allow-no-auth', 'start'], paths.serverLog, { cwd: paths.root });
  }
  try {
    await waitUntilHealthy(access, START_TIMEOUT_MS, () => processRuns(serverPid, serverBin));
  } catch (err) {
    if (!was.server) await stopProcess(serverPid, 5_000);
    throw new ClusterError(`${(err as Error).message}; the end of ${paths.serverLog}:\n${logTail(paths.serverLog)}`);
  }
  const state: ClusterState = {
    address: `127.0.0.1:${o.port}`,
    listen,
    tls: tls ? { dir: tls.dir, ca: tls.ca, clientCert: tls.clientCert, clientKey: tls.clientKey, hosts: tls.hosts } : null,
    namespace: o.namespace,
    historyShards,
    temporalVersion: TEMPORAL_SERVER_VERSION,
    ports: { ...ports, ui: null },
    server: { pid: serverPid, bin: serverBin, log: paths.serverLog, config: paths.serverConfig },
    ui: null,
    postgres: { dataDir, port: o.pgPort, binDir: pg.install.binDir, version: pg.install.version, user: pg.user?.name ?? null, log: postgres.logFile(dataDir) },
    startedAt: was.server && previous ? previous.startedAt : new Date().toISOString(),
  };
  // Recorded as soon as the server runs, so that `down` finds it even if a step below fails.
  writeJson(paths.stateFile, state);

  const ns = await ensureNamespace(access, o.namespace, o.retentionDays);
  if (ns.created) log(`registered namespace ${o.namespace} (retention ${o.retentionDays} days)`);
  if (ns.addedAttributes.length) log(`registered search attributes ${ns.addedAttributes.join(', ')}`);

  if (uiBin && o.uiPort !== null) {
    let uiPid = was.ui && previous?.ui ? previous.ui.pid : 0;
    if (!uiPid) {
      mkdirSync(paths.uiConfigDir, { recursive: true });
      writeFileSync(`${paths.uiConfigDir}/base.yaml`, renderUiConfig({ frontendPort: o.port, uiPort: o.uiPort, namespace: o.namespace, ...(tls ? { tls } : {}) }));
      uiPid = spawnDetached(uiBin, ['--root', paths.root, '--config', 'ui', '--env', 'cluster', 'start'], paths.uiLog, { cwd: paths.root });
      await waitForUi(o.uiPort, uiPid, uiBin, paths);
    }
    state.ui = { pid: uiPid, bin: uiBin, log: paths.uiLog, url: `http://localhost:${o.uiPort}`, version: UI_SERVER.version };
    state.ports.ui = o.uiPort;
    writeJson(paths.stateFile, state);
  }
  return state;
}

async function waitForUi(port: number, pid: number, bin: string, paths: ClusterPaths): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!processRuns(pid, bin)) throw new ClusterError(`the Temporal UI server exited while starting; the end of ${paths.uiLog}:\n${logTail(paths.uiLog)}`);
    if (!(await portFree(port))) return;
    await sleep(200);
  }
  await stopProcess(pid, 5_000);
  throw new ClusterError(`the Temporal UI server did not open port ${port} within 30 s; see ${paths.uiLog}`);
}

export interface ClusterStatus {
  /** Whether cluster.json exists (an `up` ran and no `down` since). */
  recorded: boolean;
  state?: ClusterState;
  server: { running: boolean; healthy: boolean };
  ui: { running: boolean };
  postgres: { running: boolean; pid?: number };
  database?: DatabaseRecord;
  stateFile: string;
}

export async function status(env: NodeJS.ProcessEnv = process.env): Promise<ClusterStatus> {
  const paths = clusterPaths(env);
  const state = readState(paths.stateFile);
  const now = running(state);
  const dataDir = knownDataDir(paths, state, env);
  let pgPid: number | undefined;
  try {
    pgPid = await postgres.postgresPid({ install: postgres.findPostgres(), user: await postgres.postgresUser(), dataDir });
  } catch {
    pgPid = undefined; // no PostgreSQL installed: it cannot run either
  }
  return {
    recorded: !!state,
    state,
    server: { running: now.server, healthy: now.server && state ? await frontendHealthy({ port: state.ports.frontend, ...(state.tls ? { tls: state.tls } : {}) }) : false },
    ui: { running: now.ui },
    postgres: { running: pgPid !== undefined, pid: pgPid },
    database: readDatabaseRecord(paths.databaseFile),
    stateFile: paths.stateFile,
  };
}

export interface DownResult {
  stopped: string[];
  deleted: string[];
}

/** Stops the UI, the server, then PostgreSQL (each only if it runs); `deleteData` then removes the cluster's folder and database. */
export async function down(o: { deleteData: boolean }, log: Log): Promise<DownResult> {
  const paths = clusterPaths();
  const release = takeLock(paths);
  try {
    const state = readState(paths.stateFile);
    const now = running(state);
    const stopped: string[] = [];
    if (state?.ui && now.ui) {
      log(`stopping the Temporal UI server (pid ${state.ui.pid})`);
      await stopProcess(state.ui.pid, 5_000);
      stopped.push('ui');
    }
    if (state && now.server) {
      log(`stopping the Temporal server (pid ${state.server.pid}; it hands back its shards first, up to ${SERVER_STOP_GRACE_MS / 1000} s)`);
      const how = await stopProcess(state.server.pid, SERVER_STOP_GRACE_MS);
      if (how === 'killed') log(`the Temporal server did not stop within ${SERVER_STOP_GRACE_MS / 1000} s and was killed`);
      stopped.push('server');
    }
    const dataDir = knownDataDir(paths, state);
    if (postgres.isInitialised(dataDir)) {
      const pg = await postgresInstance(dataDir, state?.postgres.port ?? 0);
      if ((await postgres.postgresPid(pg)) !== undefined) {
        log('stopping PostgreSQL (fast shutdown: nothing committed is lost)');
        await postgres.stop(pg);
        stopped.push('postgres');
      }
    }
    removeFile(paths.stateFile);
    const deleted: string[] = [];
    if (o.deleteData) {
      if (dataDir !== defaultPostgresDataDir() && existsSync(dataDir)) {
        rmSync(dataDir, { recursive: true, force: true });
        deleted.push(dataDir);
      }
      // Everything but the lock, which `release` removes.
      for (const file of [paths.databaseFile, paths.passwordFile, paths.serverConfig, paths.dynamicConfig, paths.uiConfigDir, paths.logs, defaultPostgresDataDir()]) {
        if (existsSync(file)) {
          rmSync(file, { recursive: true, force: true });
          deleted.push(file);
        }
      }
    }
    return { stopped, deleted };
  } finally {
    release();
  }
}

/** The binaries `up` would use, building what is missing (for set-up scripts and CI: `lab cluster install`). */
export async function install(o: { ui: boolean }, log: Log): Promise<string[]> {
  const built = [await ensureBinary(TEMPORAL_SERVER, log), await ensureBinary(SQL_TOOL, log)];
  if (o.ui) built.push(await ensureBinary(UI_SERVER, log));
  return built;
}

/** For tests and operators' scripts: restart the cluster's PostgreSQL in place (the server reconnects by itself). */
export async function restartPostgres(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const paths = clusterPaths(env);
  const state = readState(paths.stateFile);
  if (!state) throw new ClusterError('no cluster is recorded here (run lab cluster up)');
  const pg = await postgresInstance(state.postgres.dataDir, state.postgres.port);
  await postgres.restart(pg);
}

