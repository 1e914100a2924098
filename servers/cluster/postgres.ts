/**
 * A private PostgreSQL instance for the cluster: Debian's PostgreSQL binaries, a data folder of
 * its own (initdb), listening on 127.0.0.1 only on its own port, password authentication for the
 * `temporal` role. It runs as the user who runs `lab cluster`; PostgreSQL refuses to run as root,
 * so under root it runs as the `postgres` system user that Debian's package creates
 * (`LAB_CLUSTER_PG_USER` names another), through `runuser`, and its folders are handed to that user.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClusterError } from './errors.js';

export interface PostgresInstall {
  /** Folder with initdb and pg_ctl. */
  binDir: string;
  initdb: string;
  pgCtl: string;
  /** Major version, e.g. "15". */
  version: string;
}

/** The superuser that initdb creates, which the Temporal server connects as. */
export const POSTGRES_ROLE = 'temporal';

const HOW_TO_INSTALL = 'install PostgreSQL 12 or newer (Debian/Ubuntu: apt-get install postgresql; npm run setup does it when run as root), or set LAB_PG_BIN to the folder holding initdb and pg_ctl';

function executable(file: string): boolean {
  try {
    return statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Finds initdb and pg_ctl: `LAB_PG_BIN`, else Debian's `/usr/lib/postgresql/<newest>/bin` (not on
 * PATH there), else PATH.
 */
export function findPostgres(env: NodeJS.ProcessEnv = process.env): PostgresInstall {
  const candidates: string[] = [];
  if (env.LAB_PG_BIN) candidates.push(path.resolve(env.LAB_PG_BIN));
  else {
    try {
      const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
      candidates.push(...versions.map((v) => path.join('/usr/lib/postgresql', v, 'bin')));
    } catch {
      // not Debian's layout
    }
    candidates.push(...(env.PATH ?? '').split(path.delimiter).filter(Boolean));
  }
  for (const dir of candidates) {
    const initdb = path.join(dir, 'initdb');
    const pgCtl = path.join(dir, 'pg_ctl');
    if (executable(initdb) && executable(pgCtl)) {
      const version = /postgresql\/(\d+)\//.exec(dir + '/')?.[1] ?? '';
      return { binDir: dir, initdb, pgCtl, version };
    }
  }
  if (env.LAB_PG_BIN) throw new ClusterError(`LAB_PG_BIN=${env.LAB_PG_BIN} holds no initdb and pg_ctl; ${HOW_TO_INSTALL}`, true);
  throw new ClusterError(`PostgreSQL is missing (no initdb and pg_ctl found): ${HOW_TO_INSTALL}`, true);
}

/** The user PostgreSQL runs as: undefined means "this process's user"; under root, another one. */
export interface PostgresUser {
  name: string;
  uid: number;
  gid: number;
}

export async function postgresUser(env: NodeJS.ProcessEnv = process.env): Promise<PostgresUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const name = env.LAB_CLUSTER_PG_USER || 'postgres';
  const ids = await run('id', ['-u', name]).catch(() => undefined);
  const gids = await run('id', ['-g', name]).catch(() => undefined);
  if (!ids || ids.code !== 0 || !gids || gids.code !== 0) {
    throw new ClusterError(
      `running as root: PostgreSQL refuses to run as root, so it runs as the user "${name}", which does not exist here. ` +
        "Debian's postgresql package creates it; or set LAB_CLUSTER_PG_USER to another user, or run lab cluster as a normal user",
      true,
    );
  }
  const uid = Number(ids.stdout.trim());
  if (uid === 0) throw new ClusterError(`LAB_CLUSTER_PG_USER=${name} is root; PostgreSQL needs a user other than root`, true);
  return { name, uid, gid: Number(gids.stdout.trim()) };
}

/** util-linux's runuser, which root's PATH has but a trimmed PATH may not (it lives in sbin). */
function runuserPath(): string {
  return ['/usr/sbin/runuser', '/sbin/runuser'].find(executable) ?? 'runuser';
}

/** `cmd args`, as the PostgreSQL user when there is one (runuser keeps the environment it is given). */
function asUser(user: PostgresUser | undefined, cmd: string, args: string[]): [string, string[]] {
  return user ? [runuserPath(), ['-u', user.name, '--', cmd, ...args]] : [cmd, args];
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // cwd '/': under runuser, the caller's folder may not be readable by the PostgreSQL user.
    const child = spawn(cmd, args, { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface PostgresInstance {
  install: PostgresInstall;
  user: PostgresUser | undefined;
  dataDir: string;
  port: number;
}

/** The server's log, inside its data folder: the one place its user can always write. */
export function logFile(dataDir: string): string {
  return path.join(dataDir, 'log', 'postgres.log');
}

/** True once initdb has filled the data folder. */
export function isInitialised(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** Hands a folder or file to the PostgreSQL user (under root); a no-op otherwise. */
function handOver(user: PostgresUser | undefined, file: string): void {
  if (user) chownSync(file, user.uid, user.gid);
}

/**
 * Under root, PostgreSQL's user must be able to reach its folder through every folder above it (a
 * LAB_HOME under /root, or in a private temp folder, is closed to other users). Asked as that user.
 */
export async function reachable(user: PostgresUser | undefined, dir: string): Promise<boolean> {
  if (!user) return true;
  const [cmd, args] = asUser(user, 'test', ['-w', dir]);
  return (await run(cmd, args)).code === 0;
}

/** Makes `dir` (mode 0700) for PostgreSQL's user; false when that user cannot reach it, and then nothing is left behind. */
export async function makeDataDir(user: PostgresUser | undefined, dir: string): Promise<boolean> {
  const made = !existsSync(dir);
  // The folders above get the usual mode (a recursive mkdir would give them 0700 too, closing them to the user).
  mkdirSync(path.dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  handOver(user, dir);
  if (await reachable(user, dir)) return true;
  if (made) rmSync(dir, { recursive: true, force: true });
  return false;
}

async function checkReachable(pg: PostgresInstance): Promise<void> {
  if (!(await reachable(pg.user, pg.dataDir))) {
    const user = pg.user!;
    throw new ClusterError(
      `running as root, PostgreSQL runs as the user "${user.name}", which cannot write ${pg.dataDir} ` +
        `(a folder above it is closed to other users); choose a data folder it can reach with --pg-data (e.g. /var/lib/durable-lab/postgres), or run lab cluster as a normal user`,
      true,
    );
  }
}

/** initdb: UTF-8, the `temporal` superuser with `password`, scram-sha-256 on TCP and the socket. */
export async function initialise(pg: PostgresInstance, password: string): Promise<void> {
  if (!(await makeDataDir(pg.user, pg.dataDir))) await checkReachable(pg);
  // initdb reads the password from a file; it lives only as long as initdb runs.
  const pwDir = path.join(os.tmpdir(), `lab-pg-${process.pid}-${Date.now()}`);
  mkdirSync(pwDir, { mode: 0o700 });
  const pwFile = path.join(pwDir, 'pw');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  handOver(pg.user, pwDir);
  handOver(pg.user, pwFile);
  try {
    const [cmd, args] = asUser(pg.user, pg.install.initdb, [
      '-D', pg.dataDir, '-U', POSTGRES_ROLE, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-instructions',
    ]);
    const r = await run(cmd, args, { ...process.env, LC_ALL: 'C' });
    if (r.code !== 0) throw new ClusterError(`initdb failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-4).join(' / ')}`);
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
}

/** Server settings given on each start: 127.0.0.1 only, no Unix socket (no shared folder needed), room for the server's pools. */
function serverOptions(port: number): string {
  return `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200`;
}

function ensureLog(pg: PostgresInstance): void {
  const file = logFile(pg.dataDir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  handOver(pg.user, path.dirname(file));
  if (!existsSync(file)) writeFileSync(file, '');
  handOver(pg.user, file);
}

async function pgCtl(pg: Pick<PostgresInstance, 'install' | 'user' | 'dataDir'>, args: string[]): Promise<RunResult> {
  const [cmd, full] = asUser(pg.user, pg.install.pgCtl, ['-D', pg.dataDir, ...args]);
  return run(cmd, full, { ...process.env, LC_ALL: 'C' });
}

/** The postmaster's pid, or undefined when it does not run. */
export async function postgresPid(pg: Pick<PostgresInstance, 'install' | 'user' | 'dataDir'>): Promise<number | undefined> {
  if (!isInitialised(pg.dataDir)) return undefined;
  const r = await pgCtl(pg, ['status']);
  const m = /PID: (\d+)/.exec(r.stdout);
  return r.code === 0 && m ? Number(m[1]) : undefined;
}

export async function start(pg: PostgresInstance): Promise<void> {
  ensureLog(pg);
  await checkReachable(pg);
  const r = await pgCtl(pg, ['-l', logFile(pg.dataDir), '-w', '-t', '60', '-o', serverOptions(pg.port), 'start']);
  if (r.code !== 0) {
    throw new ClusterError(`PostgreSQL did not start on 127.0.0.1:${pg.port} (pg_ctl exit ${r.code}); see ${logFile(pg.dataDir)}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  }
}

/** Fast shutdown: open transactions are rolled back, nothing committed is lost. */
export async function stop(pg: PostgresInstance): Promise<boolean> {
  if ((await postgresPid(pg)) === undefined) return false;
  const r = await pgCtl(pg, ['-m', 'fast', '-w', '-t', '60', 'stop']);
  if (r.code !== 0) throw new ClusterError(`PostgreSQL did not stop (pg_ctl exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return true;
}

/** Stops and starts it again with the same settings (what an operator does after a config change or an upgrade). */
export async function restart(pg: PostgresInstance): Promise<void> {
  const r = await pgCtl(pg, ['-m', 'fast', '-w', '-t', '60', '-l', logFile(pg.dataDir), '-o', serverOptions(pg.port), 'restart']);
  if (r.code !== 0) throw new ClusterError(`PostgreSQL did not restart (pg_ctl exit ${r.code}); see ${logFile(pg.dataDir)}`);
}
