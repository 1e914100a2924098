/**
 * The cluster's Go programs: the Temporal server, its SQL schema tool and the Temporal UI server,
 * each built once with `go install <package>@<pinned version>` from the Go module proxy into a
 * cache folder that outlives runs and clones (`~/.cache/durable-lab/cluster-bin`, or
 * `LAB_CLUSTER_CACHE`). `LAB_CLUSTER_BIN_DIR` names a folder of ready-made binaries instead
 * (hosts without Go): nothing is built then.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClusterError } from './errors.js';
import { runCollecting } from './processes.js';

/**
 * v1.32.2 needs Go ≥ 1.26.10; v1.32.1 builds with the Go 1.26.8 that the project's machines have.
 * The UI server's newer tags need Go ≥ 1.26.10 as well; v2.55.0 is the newest that builds here and
 * carries the built web app inside the module.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';
export const UI_SERVER_VERSION = 'v2.55.0';

export interface ClusterBinary {
  /** The file name in the cache, with the version appended (`temporal-server-v1.32.1`). */
  name: string;
  /** The Go package that `go install` builds. */
  pkg: string;
  version: string;
  /** What the binary is for, in progress lines. */
  what: string;
  /** Minutes a first build takes on 2 cores, for the progress line. */
  firstBuildMinutes: number;
}

export const TEMPORAL_SERVER: ClusterBinary = {
  name: 'temporal-server',
  pkg: 'go.temporal.io/server/cmd/server',
  version: TEMPORAL_SERVER_VERSION,
  what: 'the Temporal server',
  firstBuildMinutes: 5,
};
export const SQL_TOOL: ClusterBinary = {
  name: 'temporal-sql-tool',
  pkg: 'go.temporal.io/server/cmd/tools/sql',
  version: TEMPORAL_SERVER_VERSION,
  what: "the Temporal server's SQL schema tool",
  firstBuildMinutes: 2,
};
export const UI_SERVER: ClusterBinary = {
  name: 'temporal-ui-server',
  pkg: 'github.com/temporalio/ui-server/v2/cmd/server',
  version: UI_SERVER_VERSION,
  what: 'the Temporal UI server',
  firstBuildMinutes: 2,
};

export function clusterCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LAB_CLUSTER_CACHE) return path.resolve(env.LAB_CLUSTER_CACHE);
  const cacheHome = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'durable-lab', 'cluster-bin');
}

/** Where `binary` is (or would be): `<LAB_CLUSTER_BIN_DIR>/<name>` when that is set, else the versioned cache file. */
export function binaryPath(binary: ClusterBinary, env: NodeJS.ProcessEnv = process.env): string {
  if (env.LAB_CLUSTER_BIN_DIR) return path.join(path.resolve(env.LAB_CLUSTER_BIN_DIR), binary.name);
  return path.join(clusterCacheDir(env), `${binary.name}-${binary.version}`);
}

function isExecutableFile(file: string): boolean {
  try {
    const s = statSync(file);
    return s.isFile() && (s.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export function isInstalled(binary: ClusterBinary, env: NodeJS.ProcessEnv = process.env): boolean {
  return isExecutableFile(binaryPath(binary, env));
}

/** Runs `go version`; undefined when there is no `go` to run. */
export function goVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('go', ['version'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => resolve(code === 0 ? out.trim() : undefined));
  });
}

/**
 * Makes sure `binary` is there, building it when it is not. Progress goes to `log`: one line when
 * the build starts, one every 30 s while it runs (a first build is minutes of silence otherwise),
 * one when it ends. Throws ClusterError when it cannot be had.
 */
export async function ensureBinary(binary: ClusterBinary, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const target = binaryPath(binary, env);
  const go = await checkObtainable(binary, env);
  if (go === 'installed') return target;
  const cache = clusterCacheDir(env);
  // A private GOBIN per build: `go install` names the file after the package (`server`, `sql`),
  // and two builds at once (two `lab cluster up`) must not overwrite each other's half-written file.
  const gobin = path.join(cache, `.build-${process.pid}-${binary.name}`);
  mkdirSync(gobin, { recursive: true });
  const started = Date.now();
  log(`building ${binary.what} ${binary.version} with go install (${go.replace(/^go version /, '')}); a first build takes about ${binary.firstBuildMinutes} min on 2 cores, later runs reuse ${target}`);
  const ticker = setInterval(() => log(`  still building ${binary.name} (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
  try {
    const output = await runGoInstall(`${binary.pkg}@${binary.version}`, gobin, env);
    const built = readdirSync(gobin).filter((f) => isExecutableFile(path.join(gobin, f)));
    if (output.code !== 0 || built.length !== 1) {
      const tail = output.text.trim().split('\n').filter((l) => !l.startsWith('go: downloading')).slice(-6).join('\n  ');
      throw new ClusterError(`could not build ${binary.what} (go install ${binary.pkg}@${binary.version} exited ${output.code}):\n  ${tail}`);
    }
    renameSync(path.join(gobin, built[0]), target);
    log(`built ${binary.name} ${binary.version} in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
    return target;
  } finally {
    clearInterval(ticker);
    rmSync(gobin, { recursive: true, force: true });
  }
}

/**
 * 'installed' when the binary is there, else the `go version` that will build it; throws (bad input:
 * nothing can start) when it is missing and cannot be built here.
 */
export async function checkObtainable(binary: ClusterBinary, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const target = binaryPath(binary, env);
  if (isExecutableFile(target)) return 'installed';
  if (env.LAB_CLUSTER_BIN_DIR) {
    throw new ClusterError(`${binary.what} is not in LAB_CLUSTER_BIN_DIR: ${target} is missing or not executable (build it with go install ${binary.pkg}@${binary.version})`, true);
  }
  const go = await goVersion(env);
  if (!go) {
    throw new ClusterError(
      `go is missing: ${binary.what} is built with go install ${binary.pkg}@${binary.version}; install Go 1.26 or newer ` +
        '(Debian: apt-get install golang-go, if its version is new enough), or set LAB_CLUSTER_BIN_DIR to a folder holding temporal-server, temporal-sql-tool and temporal-ui-server',
      true,
    );
  }
  return go;
}

function runGoInstall(spec: string, gobin: string, env: NodeJS.ProcessEnv): Promise<{ code: number; text: string }> {
  // GOTOOLCHAIN=local: a module that wants a newer Go says so, instead of go trying to fetch one.
  return runCollecting('go', ['install', spec], { ...env, GOBIN: gobin, GOFLAGS: '-mod=mod', GOTOOLCHAIN: env.GOTOOLCHAIN || 'local' });
}

