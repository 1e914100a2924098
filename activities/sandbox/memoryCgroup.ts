/**
 * A memory cgroup per command, where the worker may create one: the kernel then counts everything
 * the sandbox holds (every process, shared memory, memfd, tmpfs pages of its /tmp and /dev/shm) and
 * its OOM killer enforces `memoryMb`. cgroup v2 (memory.max, a delegated subtree) or v1
 * (memory.limit_in_bytes under the worker's own memory cgroup). Where neither works (a normal user
 * on a v1 host), callers fall back to the supervisor's sampled count (processTree.ts).
 *
 * Names carry the worker's pid and start time, so a cgroup left by a crashed worker is known as
 * stale and removed at the next command.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isStaleName, ownedName } from './ownedNames.js';
import { killPids } from './processTree.js';

const PREFIX = 'lab-sandbox-';
const CGROUP_ROOT = '/sys/fs/cgroup';

interface Flavour {
  version: 1 | 2;
  /** Where this worker may create child cgroups. */
  base: string;
}

let cachedFlavour: Flavour | null | undefined;

/** The delegated place for per-command cgroups: LAB_SANDBOX_CGROUP, else the worker's own cgroup. */
function findFlavour(env: NodeJS.ProcessEnv): Flavour | null {
  // `none`: no cgroup even where one could be made (the sampled count; tests and odd hosts).
  if (env.LAB_SANDBOX_CGROUP?.trim() === 'none') return null;
  if (cachedFlavour !== undefined && !env.LAB_SANDBOX_CGROUP) return cachedFlavour;
  let found: Flavour | null = null;
  try {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    const explicit = env.LAB_SANDBOX_CGROUP?.trim();
    const v1 = lines.map((l) => l.split(':')).find((f) => f.length >= 3 && f[1].split(',').includes('memory'));
    const v2 = lines.map((l) => l.split(':')).find((f) => f.length >= 3 && f[0] === '0' && f[1] === '');
    const candidates: Flavour[] = [];
    if (explicit) candidates.push({ version: existsSync(path.join(explicit, 'memory.limit_in_bytes')) ? 1 : 2, base: explicit });
    if (v2) {
      // Unified hierarchy at /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified (hybrid).
      for (const mount of [CGROUP_ROOT, path.join(CGROUP_ROOT, 'unified')]) {
        const own = path.join(mount, v2.slice(2).join(':'));
        if (readText(path.join(own, 'cgroup.controllers'))?.split(/\s+/).includes('memory')) candidates.push({ version: 2, base: own });
      }
    }
    if (v1) candidates.push({ version: 1, base: path.join(CGROUP_ROOT, 'memory', v1.slice(2).join(':')) });
    found = candidates.find((c) => usable(c)) ?? null;
  } catch {
    found = null;
  }
  if (!env.LAB_SANDBOX_CGROUP) cachedFlavour = found;
  return found;
}

/** Can a child cgroup with a memory limit be made here? (Made and removed once.) */
function usable(flavour: Flavour): boolean {
  if (flavour.version === 2) {
    // The children need the memory controller; enabling it fails where the worker itself sits in `base`.
    const control = readText(path.join(flavour.base, 'cgroup.subtree_control')) ?? '';
    if (!control.split(/\s+/).includes('memory')) {
      try {
        writeFileSync(path.join(flavour.base, 'cgroup.subtree_control'), '+memory');
      } catch {
        return false;
      }
    }
  }
  const probe = path.join(flavour.base, ownedName(PREFIX));
  try {
    mkdirSync(probe);
    writeFileSync(path.join(probe, flavour.version === 2 ? 'memory.max' : 'memory.limit_in_bytes'), String(64 * 2 ** 20));
    return true;
  } catch {
    return false;
  } finally {
    tryRmdir(probe);
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export interface MemoryReading {
  /** Memory the sandbox holds now: anonymous, shared memory and tmpfs (page cache of files is not counted). */
  bytes: number;
  /** Processes the kernel's OOM killer has killed in this cgroup so far. */
  oomKills: number;
}

/** One command's memory cgroup. */
export class MemoryCgroup {
  private constructor(
    readonly dir: string,
    readonly version: 1 | 2,
  ) {}

  /** A fresh cgroup limited to `limitBytes`, or undefined where the host gives none (then the caller samples). */
  static create(limitBytes: number, env: NodeJS.ProcessEnv = process.env): MemoryCgroup | undefined {
    const flavour = findFlavour(env);
    if (!flavour) return undefined;
    removeStale(flavour.base);
    const dir = path.join(flavour.base, ownedName(PREFIX));
    try {
      mkdirSync(dir);
      const limit = String(Math.floor(limitBytes));
      if (flavour.version === 2) {
        writeFileSync(path.join(dir, 'memory.max'), limit);
        tryWrite(path.join(dir, 'memory.swap.max'), '0');
        // One OOM kill takes the whole command, as the other limits do.
        tryWrite(path.join(dir, 'memory.oom.group'), '1');
      } else {
        writeFileSync(path.join(dir, 'memory.limit_in_bytes'), limit);
        tryWrite(path.join(dir, 'memory.memsw.limit_in_bytes'), limit);
        tryWrite(path.join(dir, 'memory.swappiness'), '0');
      }
      return new MemoryCgroup(dir, flavour.version);
    } catch {
      tryRmdir(dir);
      return undefined;
    }
  }

  /** The file a process writes its pid to, to enter (see `wrap`). */
  get procsFile(): string {
    return path.join(this.dir, 'cgroup.procs');
  }

  /**
   * `file args` started through a shell that first moves itself into the cgroup, then execs: the
   * process is inside before it can fork anything (same pid, so the tree's levels are unchanged).
   */
  wrap(file: string, args: string[]): { file: string; args: string[] } {
    return { file: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', this.procsFile, file, ...args] };
  }

  read(): MemoryReading {
    const stat = parseStat(readText(path.join(this.dir, 'memory.stat')) ?? '');
    if (this.version === 2) {
      const events = parseStat(readText(path.join(this.dir, 'memory.events')) ?? '');
      return { bytes: (stat.anon ?? 0) + (stat.shmem ?? 0) + (stat.kernel_stack ?? 0), oomKills: events.oom_kill ?? 0 };
    }
    const oom = parseStat(readText(path.join(this.dir, 'memory.oom_control')) ?? '');
    return { bytes: (stat.rss ?? 0) + (stat.shmem ?? 0), oomKills: oom.oom_kill ?? 0 };
  }

  /** Kills what is left inside and removes the cgroup (retried briefly while the kernel reaps). */
  async remove(): Promise<void> {
    await removeCgroup(this.dir);
  }
}

function parseStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // an optional knob this kernel does not have
  }
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (tryRmdir(dir)) return;
    const pids = (readText(path.join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean).map(Number);
    if (!tryWriteOk(path.join(dir, 'cgroup.kill'), '1')) killPids(pids);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tryWriteOk(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

/** Cgroups of workers that are gone (a crash): their processes are killed, the cgroups removed. */
function removeStale(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX) || !isStaleName(name, PREFIX)) continue;
    void removeCgroup(path.join(base, name));
  }
}
