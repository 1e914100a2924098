/**
 * `LAB_SANDBOX=unsafe-process`: plain processes, for machines without bubblewrap or Docker.
 * NOTHING IS ISOLATED: the command can read the user's files, use the network and write anywhere
 * the worker can. It gets what plain processes allow: the same rlimits (prlimit), a cleared
 * environment, the workspace as cwd and HOME, and the same sampled limits and kills. Its tree is
 * its process group plus every process carrying its marker in the environment (a command that
 * detaches with setsid keeps the marker unless it also clears its environment).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { findExecutable } from './bubblewrap.js';
import { commandEnvironment, prlimitArgs, sandboxCpus } from './commandEnv.js';
import { runPreflightProbe } from './preflight.js';
import { groupMembers, hasProcFs, inheritableFds, killGroup, killPids, processesWithMarker, shellClosingFds } from './processTree.js';
import { sandboxPython } from './python.js';
import { supervise } from './supervise.js';
import type { ExecOptions, ExecRequest, ExecResult, SandboxBackend } from './types.js';

export const UNSAFE_WARNING =
  'WARNING: LAB_SANDBOX=unsafe-process: commands run as plain processes of the worker\'s user. Nothing is isolated: ' +
  'they can read your files, reach the network and write outside the workspace. Use bubblewrap (default) or docker for real isolation.';

const MARKER_VAR = 'LAB_SANDBOX_MARKER';

export class UnsafeProcessBackend implements SandboxBackend {
  readonly name = 'unsafe-process' as const;
  readonly isolated = false;
  readonly warning = UNSAFE_WARNING;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async exec(request: ExecRequest, options: ExecOptions = {}): Promise<ExecResult> {
    const python = sandboxPython();
    const workspace = await fs.realpath(request.workspace);
    const marker = `${MARKER_VAR}=${randomBytes(12).toString('hex')}`;
    const env = {
      ...commandEnvironment({ home: workspace, pythonBin: path.join(python.venv, 'bin'), cpus: sandboxCpus(this.env) }),
      VIRTUAL_ENV: python.venv,
      [MARKER_VAR]: marker.slice(MARKER_VAR.length + 1),
      // The coding-agent CLI's allowed variables (LAB_CODING_AGENT_ENV); the network is never cut here.
      ...request.extraEnv,
    };
    const prlimit = findExecutable('prlimit', this.env.PATH);
    const { file, args } = prlimit
      ? { file: prlimit, args: [...prlimitArgs(request.limits, null), '--', ...shellClosingFds(request.command, inheritableFds())] }
      : // No util-linux (macOS): the shell's own ulimit, fewer limits.
        { file: '/bin/sh', args: ['-c', `${ulimitLine(request)}; exec /bin/sh -c "$0"`, request.command] };
    return supervise(
      {
        file,
        args,
        env,
        cwd: workspace,
        helperLevels: hasProcFs() ? 0 : undefined,
        killTree(pid, tree) {
          killGroup(pid);
          killPids([...tree.map((p) => p.pid), ...processesWithMarker(marker)]);
        },
        afterExit(pid) {
          // The group outlives its leader only while a member lives, so its id is still ours then.
          killPids([...groupMembers(pid), ...processesWithMarker(marker)]);
        },
      },
      { ...request, workspace },
      options,
    );
  }

  async preflight(): Promise<string[]> {
    try {
      sandboxPython();
    } catch (err) {
      return [`sandbox (unsafe-process): ${(err as Error).message}`];
    }
    if (!existsSync('/bin/sh')) return ['sandbox (unsafe-process): /bin/sh is missing'];
    return runPreflightProbe(this, { checkNetwork: false });
  }
}

/** One `ulimit` per limit (dash takes one at a time); -f counts 512-byte blocks. Unsupported ones are skipped. */
function ulimitLine({ limits }: ExecRequest): string {
  const kb = (mb: number) => Math.floor(mb * 1024);
  const settings = [`-t ${Math.ceil(limits.cpuSeconds)}`, `-v ${kb(limits.memoryMb)}`, `-n ${limits.openFiles}`, `-f ${kb(limits.fileSizeMb) * 2}`];
  return settings.map((s) => `ulimit ${s} 2>/dev/null`).join('; ');
}
