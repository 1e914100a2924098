/**
 * `LAB_SANDBOX=docker`: each command in a fresh container of `LAB_SANDBOX_IMAGE` (an image with
 * Python 3 and the sandbox packages; docs/environment.md shows how to build one). No network,
 * read-only root file system, the workspace as the only writable mount, private /tmp, every
 * capability dropped, memory, process and CPU limits by the engine's cgroups. The worker's own
 * wall-time, output and cancellation handling applies; a kill removes the container by its name.
 * The workspace is a bind mount: Docker has no size or inode limit for it (`--storage-opt size`
 * covers only the container's own layer, and only on some storage drivers), so its bytes, files
 * and depth are the supervisor's sampled walks, as for a worker that is not root.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BUNDLED_DATA_DIRS } from './bundledData.js';
import { commandEnvironment, sandboxCpus } from './commandEnv.js';
import { findExecutable, SANDBOX_WORKSPACE } from './bubblewrap.js';
import { runPreflightProbe } from './preflight.js';
import { killPids } from './processTree.js';
import { supervise } from './supervise.js';
import { SandboxConfigError, type ExecOptions, type ExecRequest, type ExecResult, type SandboxBackend } from './types.js';

export const DEFAULT_SANDBOX_IMAGE = 'durable-lab-sandbox:latest';

export interface DockerPlan {
  image: string;
  /** Container name: how a kill finds it (`docker kill <name>`). */
  name: string;
  workspace: string;
  command: string;
  limits: ExecRequest['limits'];
  cpus: number;
  /** uid:gid the command runs as (the worker's, so workspace files stay the user's). */
  user: string;
  /** Folders inside the image to show empty (competition runs: the packages' bundled data sets). */
  hiddenFolders?: string[];
  /** The coding-agent CLI only: the engine's default network instead of none. */
  shareNetwork?: boolean;
  /** The coding-agent CLI only: variables passed by name (`--env NAME`: the value comes from the client's environment, not argv). */
  extraEnvNames?: string[];
}

/** `docker run ...` argv (without `docker`). */
export function dockerRunArgs(plan: DockerPlan): string[] {
  const { limits } = plan;
  const mb = (n: number) => `${Math.floor(n)}m`;
  const tmpMb = Math.max(16, Math.min(limits.workspaceMb, limits.memoryMb));
  const env = commandEnvironment({ home: SANDBOX_WORKSPACE, cpus: plan.cpus, tmp: '/tmp' });
  delete (env as Record<string, string | undefined>).PATH; // the image knows where its Python is
  return [
    'run',
    '--rm',
    '--name',
    plan.name,
    '--network',
    plan.shareNetwork ? 'bridge' : 'none',
    '--read-only',
    '--tmpfs',
    `/tmp:rw,nosuid,nodev,size=${mb(tmpMb)}`,
    // /dev/shm like bwrap's; tmpfs pages count in the container's memory cgroup (--memory).
    '--shm-size',
    mb(Math.max(64, tmpMb)),
    '--volume',
    `${plan.workspace}:${SANDBOX_WORKSPACE}:rw`,
    '--workdir',
    SANDBOX_WORKSPACE,
    '--user',
    plan.user,
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--memory',
    mb(limits.memoryMb),
    '--memory-swap',
    mb(limits.memoryMb),
    '--pids-limit',
    String(limits.processes),
    '--cpus',
    String(plan.cpus),
    '--ulimit',
    `cpu=${Math.ceil(limits.cpuSeconds)}:${Math.ceil(limits.cpuSeconds) + 1}`,
    '--ulimit',
    `nofile=${limits.openFiles}:${limits.openFiles}`,
    '--ulimit',
    `fsize=${Math.floor(limits.fileSizeMb * 2 ** 20)}:${Math.floor(limits.fileSizeMb * 2 ** 20)}`,
    '--ulimit',
    'core=0:0',
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(plan.extraEnvNames ?? []).flatMap((k) => ['--env', k]),
    ...(plan.hiddenFolders ?? []).flatMap((dir) => ['--tmpfs', `${dir}:ro,size=64k`]),
    plan.image,
    '/bin/sh',
    '-c',
    plan.command,
  ];
}

/**
 * Where the image keeps its packages is the image's business: `LAB_SANDBOX_IMAGE_SITE_PACKAGES`
 * (path-separated), by default that of the python:3.11-slim image docs/environment.md builds on.
 * Every bundled-data folder under them is hidden, whether or not the image has it.
 */
export function imageBundledDataFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = (env.LAB_SANDBOX_IMAGE_SITE_PACKAGES || DEFAULT_IMAGE_SITE_PACKAGES).split(':').filter(Boolean);
  return roots.flatMap((root) => BUNDLED_DATA_DIRS.map((rel) => path.posix.join(root, rel)));
}

export const DEFAULT_IMAGE_SITE_PACKAGES = '/usr/local/lib/python3.11/site-packages';

export class DockerBackend implements SandboxBackend {
  readonly name = 'docker' as const;
  readonly isolated = true;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  private docker(): string {
    const found = findExecutable('docker', this.env.PATH);
    if (!found) throw new SandboxConfigError('LAB_SANDBOX=docker but the docker command is not installed');
    return found;
  }

  async exec(request: ExecRequest, options: ExecOptions = {}): Promise<ExecResult> {
    const docker = this.docker();
    const name = `lab-sandbox-${randomBytes(8).toString('hex')}`;
    const args = dockerRunArgs({
      image: this.env.LAB_SANDBOX_IMAGE || DEFAULT_SANDBOX_IMAGE,
      name,
      workspace: await fs.realpath(request.workspace),
      command: request.command,
      limits: request.limits,
      cpus: sandboxCpus(this.env),
      user: `${process.getuid?.() ?? 1000}:${process.getgid?.() ?? 1000}`,
      shareNetwork: request.shareNetwork,
      extraEnvNames: Object.keys(request.extraEnv ?? {}),
      ...(request.hideBundledData ? { hiddenFolders: imageBundledDataFolders(this.env) } : {}),
    });
    // The docker client needs its own settings (DOCKER_HOST, config); the container gets only --env.
    const clientEnv = Object.fromEntries(Object.entries(this.env).filter(([k]) => k === 'PATH' || k === 'HOME' || k.startsWith('DOCKER_')));
    Object.assign(clientEnv, request.extraEnv);
    return supervise(
      {
        file: docker,
        args,
        env: clientEnv,
        setupErrorPattern: /^docker: |Cannot connect to the Docker daemon|Unable to find image/m,
        killTree(pid) {
          // The container is not below the client; the engine kills it by its name.
          execFile(docker, ['kill', name], { env: clientEnv }, () => undefined);
          killPids([pid]);
        },
      },
      request,
      options,
    );
  }

  async preflight(): Promise<string[]> {
    try {
      this.docker();
    } catch (err) {
      return [`sandbox (docker): ${(err as Error).message}`];
    }
    return runPreflightProbe(this, { checkNetwork: true });
  }
}
