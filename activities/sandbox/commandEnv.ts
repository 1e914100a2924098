/** What every sandboxed command gets, whatever the backend: a small fixed environment and its rlimits. */
import type { SandboxLimits } from '../../common/environment.js';

/** Cores a command may keep busy: sets the BLAS/OpenMP thread counts (and `docker --cpus`). From LAB_SANDBOX_CPUS. */
export function sandboxCpus(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LAB_SANDBOX_CPUS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`LAB_SANDBOX_CPUS must be a positive whole number, got "${raw}"`);
  return n;
}

/** The whole environment of a sandboxed command: nothing from the worker's (no API keys). */
export function commandEnvironment(opts: { home: string; pythonBin?: string; cpus: number; tmp?: string }): Record<string, string> {
  const threads = String(opts.cpus);
  return {
    PATH: [opts.pythonBin, '/usr/local/bin', '/usr/bin', '/bin'].filter(Boolean).join(':'),
    HOME: opts.home,
    USER: 'sandbox',
    LOGNAME: 'sandbox',
    LANG: 'C.UTF-8',
    // Caches (matplotlib's, fontconfig's) in the private /tmp, not among the workspace's files.
    ...(opts.tmp ? { TMPDIR: opts.tmp, MPLCONFIGDIR: `${opts.tmp}/matplotlib`, XDG_CACHE_HOME: `${opts.tmp}/cache` } : {}),
    MPLBACKEND: 'Agg',
    PYTHONUNBUFFERED: '1',
    // No __pycache__ folders among the files the command wrote.
    PYTHONDONTWRITEBYTECODE: '1',
    OMP_NUM_THREADS: threads,
    OPENBLAS_NUM_THREADS: threads,
    MKL_NUM_THREADS: threads,
    NUMEXPR_NUM_THREADS: threads,
    // joblib/loky and Python 3.13 otherwise size worker pools by the host's cores.
    LOKY_MAX_CPU_COUNT: threads,
    PYTHON_CPU_COUNT: threads,
  };
}

/**
 * util-linux `prlimit` options for the command. `extraProcesses`: tasks of the sandbox itself that
 * share the command's RLIMIT_NPROC count (bwrap's namespace init in a user namespace); `null`: no
 * RLIMIT_NPROC, for a command that shares its uid with the user's other processes (it counts them all).
 */
export function prlimitArgs(limits: SandboxLimits, extraProcesses: number | null = 0): string[] {
  const cpu = Math.max(1, Math.ceil(limits.cpuSeconds));
  return [
    `--cpu=${cpu}:${cpu + 1}`,
    `--as=${Math.floor(limits.memoryMb * 2 ** 20)}`,
    ...(extraProcesses === null ? [] : [`--nproc=${limits.processes + extraProcesses}`]),
    `--nofile=${limits.openFiles}`,
    `--fsize=${Math.floor(limits.fileSizeMb * 2 ** 20)}`,
    '--core=0',
  ];
}
