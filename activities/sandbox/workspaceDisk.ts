/**
 * Hard workspace limits for a root worker: each command sees a copy of the workspace on a fresh
 * ext4 file system of its own (a sparse image, loop-mounted), made with exactly `workspaceMb` of
 * space the command can use and `workspaceFiles` inodes. The kernel refuses the write that would
 * pass a limit (ENOSPC), at once, whatever runs in parallel. After the command, the image is
 * checked (bounded walk: files, apparent bytes, depth) and its changes are copied back; a step
 * stopped by a disk limit leaves the workspace as it was before it. Throwing away a tree of a
 * million files or one deeper than PATH_MAX is then an unmount, not a walk.
 *
 * Why a copy per command rather than one persistent image per workspace: the workspace stays a
 * plain folder for everything else (file actions, snapshots, results), a crash can leave only a
 * scratch image (removed at the next command, its loop device released by the unmount), never a
 * half-mounted workspace. The cost is copying the workspace in and the changes out.
 */
import { promises as fs, readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import type { SandboxLimits } from '../../common/limits.js';
import { runHostTool } from './hostTool.js';
import { isStaleName, ownedName } from './ownedNames.js';
import { overLimitDetail, scanTree, workspaceBounds } from './workspaceSize.js';

const PREFIX = '.lab-disk-';
/** Less than this left for the command counts as full (ext4 cannot always hand out the last blocks). */
const FULL_BYTES = 256 * 1024;
/** Copying in or out longer than this gives up (the step then fails clearly rather than hang). */
const COPY_TIMEOUT_MS = 300_000;
/** mke2fs's reserved-blocks percentage that leaves exactly the limit to the command, by image size and inode count. */
const reserveRatios = new Map<string, number>();

function mkfsArgs(image: string, inodes: number, uid: number, reservedPercent: string): string[] {
  // No journal (a scratch copy has nothing to recover), inode tables initialised lazily (fast).
  return ['-F', '-q', '-O', '^has_journal,^resize_inode', '-m', reservedPercent, '-N', String(inodes), '-I', '256', '-E', `lazy_itable_init=1,nodiscard,root_owner=${uid}:${uid}`, image];
}

/** A host tool's stdout; its last stderr lines in the error when it fails. */
async function tool(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await runHostTool(file, args, timeoutMs);
  if (!r.ok) throw new Error(`${file} ${args[0] ?? ''}: ${r.stderrLines.slice(-2).join(' / ') || r.error}`);
  return r.stdout;
}

export interface DiskVerdict {
  /** Set when a disk limit stopped the step: which one, in words. */
  overDetail?: string;
  /** What the agent should know (changes discarded, entries skipped). */
  notes: string[];
}

export class ImageWorkspace {
  private closed = false;
  private constructor(
    readonly workspace: string,
    /** Scratch folder: `image` and the mount point `mnt`. */
    private readonly dir: string,
    readonly mountPoint: string,
    private readonly limits: SandboxLimits,
  ) {}

  /**
   * The command's own copy of `workspace`, owned by `uid`. Undefined with the reason where the
   * host cannot (not root, no mkfs.ext4, loop devices unavailable) or the workspace itself is
   * already over a limit: the caller then falls back to the sampled limits, so the agent can clean up.
   */
  static async prepare(workspace: string, limits: SandboxLimits, uid: number, env: NodeJS.ProcessEnv = process.env): Promise<{ disk?: ImageWorkspace; why?: string }> {
    if (process.getuid?.() !== 0) return { why: 'not root' };
    if ((env.LAB_SANDBOX_DISK ?? '').trim() === 'walk') return { why: 'LAB_SANDBOX_DISK=walk' };
    const parent = path.dirname(workspace);
    await removeStale(parent);
    const before = await scanTree(workspace, workspaceBounds(limits), limits);
    if (before.over) return { why: `the workspace is already over its limits (${before.over})` };
    if (!before.complete) return { why: 'the workspace could not be measured in time' };

    const dir = path.join(parent, ownedName(PREFIX));
    const image = path.join(dir, 'image');
    const mnt = path.join(dir, 'mnt');
    const disk = new ImageWorkspace(workspace, dir, mnt, limits);
    try {
      await fs.mkdir(mnt, { recursive: true, mode: 0o700 });
      await fs.chmod(dir, 0o711);
      const want = Math.ceil(limits.workspaceMb * 2 ** 20);
      const inodes = limits.workspaceFiles + 16;
      // Room for the inode tables and ext4's own reserve; the excess is reserved for root (below).
      const slack = inodes * 256 + Math.min(want * 0.03, 20 * 2 ** 20) + 8 * 2 ** 20;
      const imageBytes = Math.ceil((want + slack) / 65536) * 65536;
      const handle = await fs.open(image, 'w', 0o600);
      await handle.truncate(imageBytes);
      await handle.close();
      const key = `${imageBytes}:${inodes}`;
      let ratio = reserveRatios.get(key);
      if (ratio === undefined) {
        // First image of this size: measure what ext4 leaves free, so that exactly `want` is
        // left to the command (mke2fs lays out the same size identically, so it is remembered).
        await tool('mkfs.ext4', mkfsArgs(image, inodes, uid, '0'));
        const info = await tool('dumpe2fs', ['-h', image]);
        const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
        const blockCount = field('Block count');
        // ext4 holds back 2% of the blocks, at most 4096, from everyone (ext4_calculate_resv_clusters).
        const reserve = field('Free blocks') - Math.min(Math.floor(blockCount / 50), 4096) - Math.ceil(want / field('Block size'));
        if (!(reserve >= 0)) throw new Error(`the image came out too small (${info.slice(0, 200)})`);
        // mke2fs sets floor(ratio * blocks / 100) reserved blocks: aim at the middle of the block.
        ratio = ((reserve + 0.5) * 100) / blockCount;
        await tool('tune2fs', ['-r', String(reserve), image]);
        reserveRatios.set(key, ratio);
      } else {
        await tool('mkfs.ext4', mkfsArgs(image, inodes, uid, ratio.toFixed(12)));
      }
      // One shell for the rest: each process the worker starts costs more than these steps do.
      // cp -a keeps times (unchanged files are recognised on the way back) and handles any name.
      // relatime, not noatime: the scorer's read tripwire on its decoy labels needs reads to show.
      await tool(
        'sh',
        [
          '-c',
          'mount -t ext4 -o loop,nosuid,nodev,relatime,noinit_itable "$1" "$2" && rmdir "$2/lost+found" && cp -a -- "$3/." "$2/" && chown -R -h "$4:$4" -- "$2"',
          'sh',
          image,
          mnt,
          workspace,
          String(uid),
        ],
        COPY_TIMEOUT_MS,
      );
      await fs.chmod(mnt, (await fs.stat(workspace)).mode & 0o777);
      return { disk };
    } catch (err) {
      await disk.close();
      return { why: `no workspace image: ${(err as Error).message}` };
    }
  }

  /** Checked every sample: a full file system or no inodes left is the limit reached. Cheap (statfs). */
  sample(): string | undefined {
    try {
      const s = statfsSync(this.mountPoint);
      if (s.ffree <= 0) return overLimitDetail('files', this.limits);
      if (s.bavail * s.bsize < FULL_BYTES) return overLimitDetail('bytes', this.limits);
    } catch {
      // unmounted already
    }
    return undefined;
  }

  /**
   * After the command: keep its changes (copied into the workspace), unless a disk limit stopped
   * it (`stoppedByDisk`) or the tree it left is over a limit (depth, apparent bytes of sparse files).
   */
  async settle(stoppedByDisk: string | undefined): Promise<DiskVerdict> {
    const discarded = 'its changes to the workspace were discarded (the workspace is as it was before this step)';
    if (stoppedByDisk) return { overDetail: `${stoppedByDisk}; ${discarded}`, notes: [] };
    const after = await scanTree(this.mountPoint, workspaceBounds(this.limits), this.limits);
    if (after.over) return { overDetail: `${after.over}; ${discarded}`, notes: [] };
    if (!after.complete) return { overDetail: `disk limit: the workspace could not be checked in time; ${discarded}`, notes: after.skipped };
    const notes = after.skipped.map((s) => `not copied back: ${s}`);
    await syncInto(this.mountPoint, this.workspace, notes, Date.now() + COPY_TIMEOUT_MS);
    return { notes };
  }

  /** Unmounts (the loop device goes with it) and deletes the image. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await unmountAndRemove(this.dir);
  }
}

async function unmountAndRemove(dir: string): Promise<void> {
  const mnt = path.join(dir, 'mnt');
  for (let attempt = 0; attempt < 3 && isMountPoint(mnt); attempt += 1) {
    await tool('umount', [mnt]).catch(() => undefined);
    if (isMountPoint(mnt)) await new Promise((r) => setTimeout(r, 100));
  }
  // Still busy (a process outside the sandbox holds it): detach now, the kernel frees it when released.
  if (isMountPoint(mnt)) await tool('umount', ['-l', mnt]).catch(() => undefined);
  if (!isMountPoint(mnt)) await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

function isMountPoint(dir: string): boolean {
  try {
    // Octal escapes in mountinfo: spaces and the like (our own names have none).
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === dir);
  } catch {
    return false;
  }
}

/** Images and mounts left by a worker that died: unmounted and removed. */
async function removeStale(parent: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(PREFIX) && isStaleName(name, PREFIX.replace('.', '\\.'))) await unmountAndRemove(path.join(parent, name));
  }
}

/**
 * Makes `dst` hold what `src` holds: new and changed files copied (to a temporary name, then
 * renamed), vanished entries removed, unchanged files (same size, mtime, mode) left alone. Links
 * are copied as links. set-uid/set-gid bits are dropped (the copies are root's). Entries whose
 * names are not UTF-8 and special files are skipped and noted. Depth was checked before.
 */
async function syncInto(src: string, dst: string, notes: string[], deadline: number): Promise<void> {
  const note = (n: string) => notes.length < 20 && notes.push(n);
  const pending = [''];
  while (pending.length) {
    if (Date.now() > deadline) {
      note('copying back stopped at its time limit; some changes are missing');
      return;
    }
    const rel = pending.pop()!;
    const from = path.join(src, rel);
    const to = path.join(dst, rel);
    const srcNames = await utf8Names(from, (n) => note(`not copied back: an entry whose name is not UTF-8 in ${rel || '.'}`));
    const dstNames = await utf8Names(to, () => undefined);
    for (const name of dstNames) {
      if (!srcNames.has(name)) await fs.rm(path.join(to, name), { recursive: true, force: true });
    }
    for (const name of srcNames) {
      const s = path.join(from, name);
      const d = path.join(to, name);
      const childRel = rel ? `${rel}/${name}` : name;
      try {
        const ss = await fs.lstat(s, { bigint: true });
        const ds = await fs.lstat(d, { bigint: true }).catch(() => undefined);
        const mode = Number(ss.mode & 0o1777n);
        if (ss.isDirectory()) {
          if (ds && !ds.isDirectory()) await fs.rm(d, { recursive: true, force: true });
          if (!ds || !ds.isDirectory()) await fs.mkdir(d);
          await fs.chmod(d, mode);
          pending.push(childRel);
        } else if (ss.isFile()) {
          if (ds?.isFile() && ds.size === ss.size && ds.mtimeNs === ss.mtimeNs && Number(ds.mode & 0o1777n) === mode) {
            // Unchanged, but a read inside moved its access time: carry that back (the scorer's read tripwire on the decoy labels).
            if (ds.atimeNs !== ss.atimeNs) await fs.utimes(d, Number(ss.atimeNs) / 1e9, Number(ss.mtimeNs) / 1e9);
            continue;
          }
          const tmp = path.join(to, `.lab-copy-${process.pid}-${Math.random().toString(36).slice(2)}`);
          await fs.copyFile(s, tmp);
          await fs.chmod(tmp, mode);
          await fs.utimes(tmp, Number(ss.atimeNs) / 1e9, Number(ss.mtimeNs) / 1e9);
          if (ds?.isDirectory()) await fs.rm(d, { recursive: true, force: true });
          await fs.rename(tmp, d);
        } else if (ss.isSymbolicLink()) {
          const target = await fs.readlink(s);
          if (ds?.isSymbolicLink() && (await fs.readlink(d)) === target) continue;
          if (ds) await fs.rm(d, { recursive: true, force: true });
          await fs.symlink(target, d);
        } else if (!ds || (ds.mode & 0o170000n) !== (ss.mode & 0o170000n)) {
          note(`not copied back: ${childRel} (a special file)`);
        }
      } catch (err) {
        note(`not copied back: ${childRel} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
  }
}

/** Names in `dir` that are valid UTF-8 (Node names files by strings); others reported. */
async function utf8Names(dir: string, onOdd: (raw: Buffer) => void): Promise<Set<string>> {
  const names = new Set<string>();
  let raw: Buffer[];
  try {
    raw = await fs.readdir(dir, { encoding: 'buffer' });
  } catch {
    return names;
  }
  for (const r of raw) {
    const s = r.toString('utf8');
    if (Buffer.from(s, 'utf8').equals(r)) names.add(s);
    else onOdd(r);
  }
  return names;
}
