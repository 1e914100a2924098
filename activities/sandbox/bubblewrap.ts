/**
 * The default backend: bubblewrap. Each command runs in new namespaces (no network at all, own
 * PIDs, IPC, hostname) on a read-only view of the system with the run's workspace as its only
 * writable place, a private /tmp, a cleared environment and rlimits; the worker samples the tree
 * for the tree-wide limits and kills the namespace (its init) on timeout or cancellation.
 *
 * Two ways to start, chosen by who runs the worker:
 * - a user: an unprivileged user namespace, the command as uid 65534 inside. RLIMIT_NPROC counts
 *   per user namespace, so the process limit holds for this command alone.
 * - root: RLIMIT_NPROC never binds uid 0, so bwrap runs privileged (no user namespace) and the
 *   command drops to a fresh unprivileged uid of its own (`setpriv`); the workspace is handed to
 *   that uid for the command and back afterwards.
 */
import { randomInt } from 'node:crypto';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SandboxLimits } from '../../common/environment.js';
import { bundledDataFolders } from './bundledData.js';
import { commandEnvironment, prlimitArgs, sandboxCpus } from './commandEnv.js';
import { runPreflightProbe } from './preflight.js';
import { inheritableFds, killPids, shellClosingFds } from './processTree.js';
import { sandboxPython, type SandboxPython } from './python.js';
import { MemoryCgroup } from './memoryCgroup.js';
import { supervise } from './supervise.js';
import { ImageWorkspace } from './workspaceDisk.js';
import { chownTree } from './workspaceSize.js';
import { ENV_NAME, SandboxConfigError, type ExecOptions, type ExecRequest, type ExecResult, type SandboxBackend } from './types.js';

export const SANDBOX_WORKSPACE = '/workspace';
export const SANDBOX_PYTHON = '/opt/lab-python';
/** The command's uid inside a user namespace (an unprivileged worker). */
export const SANDBOX_UID = 65534;
/** Private /dev/shm (multiprocessing needs it): at least this, else as large as /tmp. */
const SHM_MB = 64;
/** What the command sees of /etc: what libc, fonts and Python need; no host accounts, no secrets. */
const ETC_FILES = ['alternatives', 'fonts', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'mime.types', 'nsswitch.conf', 'protocols'];
/** Top-level system folders that are links on merged-/usr systems, or real folders on older ones. */
const SYSTEM_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export const BWRAP_MISSING =
  'bubblewrap (bwrap) is not installed: run `npm run setup` (installs bubblewrap) or set LAB_SANDBOX=docker or LAB_SANDBOX=unsafe-process';

export interface BwrapPlan {
  workspace: string;
  command: string;
  limits: SandboxLimits;
  python: SandboxPython;
  cpus: number;
  /** Root worker: privileged bwrap, the command drops to `uid`. Otherwise a user namespace. */
  privileged: boolean;
  /** The command's uid (and gid). */
  uid: number;
  /** Descriptors the worker would pass down; closed before the command starts. */
  inheritedFds?: number[];
  /** The coding-agent CLI only: share the host's network (`--share-net`) and its DNS/TLS settings. */
  shareNetwork?: boolean;
  /** The coding-agent CLI only: variables added to the cleared environment, read from a file bwrap writes inside (fd 6), not argv. */
  extraEnv?: Record<string, string>;
  /** Competition runs: the Python packages' bundled data sets are seen as empty folders. */
  hideBundledData?: boolean;
}

/** Where the extra variables are inside the sandbox (sourced by the shell before the command). */
const EXTRA_ENV_FILE = '/etc/lab-extra-env';
/** What a command that shares the network needs of /etc to resolve names and check certificates. */
const NETWORK_ETC_FILES = ['resolv.conf', 'ssl', 'ca-certificates', 'ca-certificates.conf', 'gai.conf', 'host.conf'];

/** The bwrap argv (without the `bwrap` itself) and the contents bwrap reads from fds 3, 4, 5. */
export function bubblewrapArgs(plan: BwrapPlan): { args: string[]; dataFds: string[] } {
  const args: string[] = [];
  const dirs = new Set<string>(['/']);
  /** Creates the parents of `dest` world-readable (bwrap would make them 0700 as root). */
  const parents = (dest: string) => {
    const missing: string[] = [];
    for (let d = path.posix.dirname(dest); !dirs.has(d); d = path.posix.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      args.push('--perms', '0755', '--dir', d);
      dirs.add(d);
    }
  };

  if (plan.privileged) {
    args.push('--unshare-ipc', '--unshare-pid', ...(plan.shareNetwork ? [] : ['--unshare-net']), '--unshare-uts', '--unshare-cgroup-try');
    args.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID');
  } else {
    args.push('--unshare-all', '--unshare-user', '--disable-userns', '--uid', String(plan.uid), '--gid', String(plan.uid));
    if (plan.shareNetwork) args.push('--share-net');
  }
  args.push('--die-with-parent', '--new-session', '--hostname', 'sandbox');

  args.push('--ro-bind', '/usr', '/usr');
  dirs.add('/usr');
  for (const dir of SYSTEM_DIRS) {
    const kind = systemDirKind(dir);
    if (kind === 'link') args.push('--symlink', readlinkSync(dir), dir);
    else if (kind === 'dir') args.push('--ro-bind', dir, dir);
  }
  parents('/etc/x');
  for (const name of [...ETC_FILES, ...(plan.shareNetwork ? NETWORK_ETC_FILES : [])]) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  const dataFds = [
    `root:x:0:0:root:/root:/bin/sh\nsandbox:x:${plan.uid}:${plan.uid}:sandbox:${SANDBOX_WORKSPACE}:/bin/sh\n`,
    `root:x:0:\nsandbox:x:${plan.uid}:\n`,
    '127.0.0.1 localhost sandbox\n::1 localhost\n',
  ];
  args.push('--perms', '0644', '--ro-bind-data', '3', '/etc/passwd');
  args.push('--perms', '0644', '--ro-bind-data', '4', '/etc/group');
  args.push('--perms', '0644', '--ro-bind-data', '5', '/etc/hosts');
  const extra = Object.entries(plan.extraEnv ?? {});
  let command = plan.command;
  if (extra.length) {
    for (const [k] of extra) if (!ENV_NAME.test(k)) throw new SandboxConfigError(`not a variable name: "${k}"`);
    dataFds.push(extra.map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'\n`).join(''));
    args.push('--perms', '0444', '--ro-bind-data', '6', EXTRA_ENV_FILE);
    command = `set -a; . ${EXTRA_ENV_FILE}; set +a; ${command}`;
  }

  args.push('--proc', '/proc', '--dev', '/dev');
  // /tmp and /dev/shm are memory: each capped like the workspace and never above what the command
  // may use; their pages count in its memory (cgroup, or the sampled tmpfs usage).
  const tmpMb = Math.max(16, Math.min(plan.limits.workspaceMb, plan.limits.memoryMb));
  args.push('--perms', '1777', '--size', String(Math.floor(Math.max(SHM_MB, tmpMb) * 2 ** 20)), '--tmpfs', '/dev/shm');
  args.push('--perms', '1777', '--size', String(Math.floor(tmpMb * 2 ** 20)), '--tmpfs', '/tmp');
  dirs.add('/tmp');

  parents(SANDBOX_PYTHON);
  args.push('--ro-bind', plan.python.venv, SANDBOX_PYTHON);
  for (const prefix of plan.python.basePrefixes) {
    if (prefix === '/usr' || prefix.startsWith('/usr/')) continue;
    parents(prefix);
    args.push('--ro-bind', prefix, prefix);
  }
  if (plan.hideBundledData) {
    // An empty read-only tmpfs over each folder: the package imports, its data files are gone.
    for (const host of bundledDataFolders([plan.python.venv, ...plan.python.basePrefixes])) {
      const inside = host.startsWith(plan.python.venv + path.sep) ? path.posix.join(SANDBOX_PYTHON, path.relative(plan.python.venv, host)) : host;
      args.push('--perms', '0555', '--tmpfs', inside, '--remount-ro', inside);
    }
  }
  args.push('--bind', plan.workspace, SANDBOX_WORKSPACE, '--chdir', SANDBOX_WORKSPACE);

  args.push('--clearenv');
  const env = commandEnvironment({ home: SANDBOX_WORKSPACE, pythonBin: `${SANDBOX_PYTHON}/bin`, cpus: plan.cpus, tmp: '/tmp' });
  for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
  args.push('--setenv', 'VIRTUAL_ENV', SANDBOX_PYTHON);

  args.push('--');
  if (plan.privileged) {
    args.push('setpriv', `--reuid=${plan.uid}`, `--regid=${plan.uid}`, '--clear-groups', '--inh-caps=-all', '--');
  }
  // In a user namespace the namespace's init counts against the command's RLIMIT_NPROC.
  args.push('prlimit', ...prlimitArgs(plan.limits, plan.privileged ? 0 : 1), '--', ...shellClosingFds(command, plan.inheritedFds ?? []));
  return { args, dataFds };
}

function systemDirKind(dir: string): 'link' | 'dir' | 'none' {
  try {
    const stat = lstatSync(dir);
    return stat.isSymbolicLink() ? 'link' : stat.isDirectory() ? 'dir' : 'none';
  } catch {
    return 'none';
  }
}

/** `name` on `searchPath` (the usual system folders when there is no PATH at all). */
export function findExecutable(name: string, searchPath = process.env.PATH || '/usr/local/bin:/usr/bin:/bin'): string | undefined {
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export { chownTree };

/** Host facts said once per worker, not in every observation. */
const warned = new Set<string>();
function warnOnce(line: string): void {
  if (warned.has(line)) return;
  warned.add(line);
  process.stderr.write(`${line}\n`);
}

export class BubblewrapBackend implements SandboxBackend {
  readonly name = 'bwrap' as const;
  readonly isolated = true;
  private readonly privileged: boolean;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.privileged = process.getuid?.() === 0;
  }

  private bwrap(): string {
    const found = findExecutable('bwrap', this.env.PATH);
    if (!found) throw new SandboxConfigError(BWRAP_MISSING);
    return found;
  }

  async exec(request: ExecRequest, options: ExecOptions = {}): Promise<ExecResult> {
    const bwrap = this.bwrap();
    if (this.privileged && !findExecutable('setpriv', this.env.PATH)) throw new SandboxConfigError('setpriv (util-linux) is missing: a root worker needs it to run commands as an unprivileged user');
    const workspace = await fs.realpath(request.workspace);
    // A fresh uid per command when root: its RLIMIT_NPROC count is then this command's alone.
    const uid = this.privileged ? randomInt(1_000_000_000, 2_000_000_000) : SANDBOX_UID;
    const notes: string[] = [];
    let cgroup: MemoryCgroup | undefined;
    let disk: ImageWorkspace | undefined;
    let chowned = false;
    try {
      cgroup = MemoryCgroup.create(request.limits.memoryMb * 2 ** 20, this.env);
      if (!cgroup) warnOnce('sandbox (bwrap): no memory cgroup can be made here; memory is sampled (Pss, memfd, tmpfs), see docs/environment.md');
      if (this.privileged) {
        const prepared = await ImageWorkspace.prepare(workspace, request.limits, uid, this.env);
        disk = prepared.disk;
        if (!disk) {
          if (prepared.why?.startsWith('the workspace is already over')) notes.push(`${prepared.why}: this step ran with sampled limits so that it can clean up`);
          else warnOnce(`sandbox (bwrap): workspace limits are sampled, not enforced by the kernel (${prepared.why})`);
          chowned = true;
          notes.push(...(await chownTree(workspace, uid, uid)).map((p) => `handing the workspace to the command: ${p}`));
        }
      }
      const { args, dataFds } = bubblewrapArgs({
        workspace: disk ? disk.mountPoint : workspace,
        command: request.command,
        limits: request.limits,
        python: sandboxPython(),
        cpus: sandboxCpus(this.env),
        privileged: this.privileged,
        uid,
        inheritedFds: inheritableFds(),
        shareNetwork: request.shareNetwork,
        extraEnv: request.extraEnv,
        hideBundledData: request.hideBundledData,
      });
      // In the cgroup before bwrap starts anything (a shell that moves itself, then execs bwrap).
      const start = cgroup ? cgroup.wrap(bwrap, args) : { file: bwrap, args };
      const result = await supervise(
        {
          ...start,
          // bwrap's own processes stay visible in /proc inside: they must not carry the worker's keys.
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
          dataFds,
          helperLevels: 2,
          pidNamespace: true,
          setupErrorPattern: /^bwrap: |cgroup\.procs: .*cannot create/m,
          memory: cgroup,
          tmpfsInside: ['/tmp', '/dev/shm'],
          workspace: disk,
          killTree(pid, tree) {
            // The namespace's init (bwrap's child): when it dies the kernel kills everything inside,
            // and bwrap, left without it, exits. Killing bwrap itself would orphan the init.
            const init = tree.filter((p) => p.depth === 1).map((p) => p.pid);
            killPids(init.length ? init : [pid]);
          },
        },
        { ...request, workspace },
        options,
      );
      const all = [...notes, ...(result.notes ?? [])];
      return all.length ? { ...result, notes: all } : result;
    } finally {
      await disk?.close();
      await cgroup?.remove();
      if (chowned) await chownTree(workspace, process.getuid!(), process.getgid!());
    }
  }

  async preflight(): Promise<string[]> {
    try {
      this.bwrap();
      sandboxPython();
    } catch (err) {
      return [`sandbox (bwrap): ${(err as Error).message}`];
    }
    return runPreflightProbe(this, { checkNetwork: true });
  }
}
