/**
 * Process trees read from /proc (Linux): which processes a sandboxed command started, what they
 * use together, and killing exactly them — by parent links and markers, never by name.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, statSync, statfsSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  threads: number;
  /** utime + stime + cutime + cstime: own CPU plus that of children already waited for. */
  cpuTicks: number;
  rssPages: number;
}

/** Linux reports CPU times in USER_HZ, 100 on every mainstream architecture. */
const TICKS_PER_SECOND = 100;
let pageSize: number | undefined;

function pageBytes(): number {
  if (pageSize === undefined) {
    try {
      pageSize = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
    } catch {
      pageSize = 4096;
    }
  }
  return pageSize;
}

export function hasProcFs(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

export function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so split after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
    threads: Number(f[17]),
    rssPages: Number(f[21]),
  };
}

export function readProcessTable(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return table;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info) table.set(info.pid, info);
  }
  return table;
}

export interface TreeProcess extends ProcessInfo {
  /** 0 for the root. */
  depth: number;
}

/** `root` and every process below it (orphans re-parented inside a PID namespace stay below its init). */
export function descendants(table: Map<number, ProcessInfo>, root: number): TreeProcess[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of table.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out: TreeProcess[] = [];
  const rootInfo = table.get(root);
  if (!rootInfo) return out;
  const queue: TreeProcess[] = [{ ...rootInfo, depth: 0 }];
  const seen = new Set<number>();
  while (queue.length) {
    const p = queue.shift()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    out.push(p);
    for (const c of children.get(p.pid) ?? []) queue.push({ ...c, depth: p.depth + 1 });
  }
  return out;
}

export interface TreeUsage {
  /** Threads count too: RLIMIT_NPROC counts them. */
  tasks: number;
  cpuSeconds: number;
  rssBytes: number;
}

export function treeUsage(processes: ProcessInfo[]): TreeUsage {
  let tasks = 0;
  let ticks = 0;
  let pages = 0;
  for (const p of processes) {
    if (p.state === 'Z') continue;
    tasks += p.threads;
    ticks += p.cpuTicks;
    pages += p.rssPages;
  }
  return { tasks, cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: pages * pageBytes() };
}

/** Processes whose environment holds `marker` (the unsafe backend's token; survives setsid and double forks). */
export function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** Live processes of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return [...readProcessTable().values()].filter((p) => p.pgrp === pgid && p.state !== 'Z').map((p) => p.pid);
}

export function killPids(pids: Iterable<number>, signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    if (pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const info = readProcess(pid);
  if (info) return info.state !== 'Z' && info.state !== 'X';
  if (hasProcFs()) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * This process's descriptors that a child would inherit (no close-on-exec): whatever started the
 * worker left them open. Neither Node nor bwrap closes them, so the sandboxed command must.
 */
export function inheritableFds(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const fds: number[] = [];
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 3) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) fds.push(fd);
    } catch {
      // closed meanwhile (the fd readdir itself used is one of them)
    }
  }
  return fds;
}

/** `sh -c command`, preceded by closing `fds` (bash: dash cannot name descriptors above 9). */
export function shellClosingFds(command: string, fds: number[]): string[] {
  if (!fds.length) return ['/bin/sh', '-c', command];
  return ['/bin/bash', '-c', `exec ${fds.map((fd) => `${fd}>&-`).join(' ')}; exec /bin/sh -c "$1"`, 'sh', command];
}

/** The PID namespace a process lives in (`pid:[inode]`), or undefined if it is gone or /proc is not there. */
export function pidNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Live processes in PID namespace `ns` (zombies excepted): the namespace's identity, never a name or a recycled pid. */
export function processesInNamespace(ns: string): number[] {
  return [...readProcessTable().values()].filter((p) => p.state !== 'Z' && p.state !== 'X' && pidNamespaceOf(p.pid) === ns).map((p) => p.pid);
}

/**
 * Memory a tree holds, shared memory included, where no memory cgroup counts it: the processes'
 * proportional set size (Pss; shared pages split between their users) plus shared memory counted
 * once: the larger of the mapped shared memory (Pss_Shmem) and the memfd files the processes hold
 * open plus what the tmpfs folders (`tmpfsDirs`, host paths such as /proc/<pid>/root/tmp) hold.
 */
export function sharedAwareMemoryBytes(pids: number[], tmpfsDirs: string[] = []): number {
  let pss = 0;
  let mappedShmem = 0;
  const memfds = new Map<string, number>();
  for (const pid of pids) {
    let rollup: string;
    try {
      rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      continue;
    }
    pss += kbField(rollup, 'Pss') * 1024;
    mappedShmem += kbField(rollup, 'Pss_Shmem') * 1024;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (!readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/memfd:')) continue;
        const st = statSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false });
        // Allocated blocks, not the apparent size: a sparse memfd holds no memory.
        if (st) memfds.set(`${st.dev}:${st.ino}`, st.blocks * 512);
      } catch {
        // closed meanwhile
      }
    }
  }
  let held = 0;
  for (const bytes of memfds.values()) held += bytes;
  for (const dir of tmpfsDirs) {
    try {
      const fsStat = statfsSync(dir);
      held += (fsStat.blocks - fsStat.bfree) * fsStat.bsize;
    } catch {
      // the sandbox is gone
    }
  }
  return pss - mappedShmem + Math.max(mappedShmem, held);
}

function kbField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
