/**
 * Host-side walks of a workspace, bounded so that no tree a command can make (millions of files,
 * folders deeper than PATH_MAX, names that are not UTF-8) hangs or breaks a step: every walk stops
 * at an entry count, a depth and a deadline, skips what it cannot read, and reports instead of throwing.
 */
import { runHostTool } from './hostTool.js';
import { lstatSync, opendirSync, type Dir } from 'node:fs';
import path from 'node:path';
import type { SandboxLimits } from '../../common/limits.js';

/** Relative paths longer than this are refused like too-deep trees (PATH_MAX is 4,096 with the workspace's own path). */
export const MAX_PATH_BYTES = 4000;
/** A walk that takes longer gives up (the result says `complete: false`). */
const WALK_DEADLINE_MS = 20_000;

export interface TreeScan {
  /** Apparent size of files and links (folders count 0). */
  bytes: number;
  /** Entries below the root: files, folders, links, others. */
  entries: number;
  /** Deepest level seen (an entry directly in the root is level 1). */
  depth: number;
  /** False when a bound (entries, bytes, depth, deadline) stopped the walk. */
  complete: boolean;
  /** Which limit the tree is over, in words, when it is. */
  over?: string;
  /** Entries that could not be read or named (kept short). */
  skipped: string[];
}

export interface ScanBounds {
  maxEntries?: number;
  maxBytes?: number;
  maxDepth?: number;
  deadlineMs?: number;
}

/** Limits of `limits` as walk bounds: a walk stops just past the first one it crosses. */
export function workspaceBounds(limits: Pick<SandboxLimits, 'workspaceMb' | 'workspaceFiles' | 'workspaceDepth'>): Required<Omit<ScanBounds, 'deadlineMs'>> {
  return { maxEntries: limits.workspaceFiles, maxBytes: limits.workspaceMb * 2 ** 20, maxDepth: limits.workspaceDepth };
}

/** What a scan over `limits` says, for a step's `killedDetail`. */
export function overLimitDetail(kind: 'bytes' | 'files' | 'depth', limits: Pick<SandboxLimits, 'workspaceMb' | 'workspaceFiles' | 'workspaceDepth'>): string {
  if (kind === 'bytes') return `disk limit reached: the workspace is over ${limits.workspaceMb} MB`;
  if (kind === 'files') return `disk limit reached: the workspace holds more than ${limits.workspaceFiles} files and folders`;
  return `disk limit reached: a folder tree deeper than ${limits.workspaceDepth} levels (or a path over ${MAX_PATH_BYTES} bytes)`;
}

/**
 * Walks `root` (links not followed) and stops as soon as it is over a bound. Paths stay short:
 * the walk never descends past `maxDepth` or MAX_PATH_BYTES, so it never meets ENAMETOOLONG.
 */
export async function scanTree(root: string, bounds: ScanBounds = {}, limitsForDetail?: Pick<SandboxLimits, 'workspaceMb' | 'workspaceFiles' | 'workspaceDepth'>): Promise<TreeScan> {
  const { maxEntries = Infinity, maxBytes = Infinity, maxDepth = Infinity, deadlineMs = WALK_DEADLINE_MS } = bounds;
  const deadline = Date.now() + deadlineMs;
  const scan: TreeScan = { bytes: 0, entries: 0, depth: 0, complete: true, skipped: [] };
  const skip = (what: string) => {
    if (scan.skipped.length < 20) scan.skipped.push(what);
  };
  const stop = (over: 'bytes' | 'files' | 'depth') => {
    scan.complete = false;
    scan.over = limitsForDetail ? overLimitDetail(over, limitsForDetail) : over;
    return scan;
  };
  // Depth-first with an explicit stack: memory stays bounded by the entry limit, never by recursion.
  const pending: { dir: string; rel: number; level: number }[] = [{ dir: root, rel: 0, level: 0 }];
  while (pending.length) {
    if (Date.now() > deadline) {
      scan.complete = false;
      skip(`walk stopped after ${deadlineMs} ms`);
      return scan;
    }
    const { dir, rel, level } = pending.pop()!;
    let handle: Dir;
    try {
      // A stream of entries, not readdir's whole list: one folder may hold millions. Synchronous
      // calls are ~10x faster per entry than promises; the loop yields every few thousand entries.
      handle = opendirSync(dir, { encoding: 'buffer' as BufferEncoding, bufferSize: 1024 });
    } catch (err) {
      skip(`${path.relative(root, dir) || '.'}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      continue;
    }
    try {
      for (let entry = handle.readSync(); entry; entry = handle.readSync()) {
        scan.entries += 1;
        if (scan.entries > maxEntries) return stop('files');
        if ((scan.entries & 4095) === 0) {
          if (Date.now() > deadline) {
            scan.complete = false;
            skip(`walk stopped after ${deadlineMs} ms`);
            return scan;
          }
          await new Promise((r) => setImmediate(r));
        }
        const raw = entry.name as unknown as Buffer;
        const depth = level + 1;
        const relBytes = rel + raw.length + 1;
        if (depth > scan.depth) scan.depth = depth;
        if (depth > maxDepth || relBytes > MAX_PATH_BYTES) return stop('depth');
        const name = raw.toString('utf8');
        if (!Buffer.from(name, 'utf8').equals(raw)) {
          // Not UTF-8: counted, not measured (Node names files by strings).
          skip(`an entry whose name is not UTF-8 in ${path.relative(root, dir) || '.'}`);
          continue;
        }
        const full = path.join(dir, name);
        if (entry.isDirectory()) {
          pending.push({ dir: full, rel: relBytes, level: depth });
          continue;
        }
        try {
          scan.bytes += lstatSync(full, { throwIfNoEntry: false })?.size ?? 0;
        } catch (err) {
          skip(`${path.relative(root, full)}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
        }
        if (scan.bytes > maxBytes) return stop('bytes');
      }
    } catch (err) {
      skip(`${path.relative(root, dir) || '.'}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    } finally {
      try {
        handle.closeSync();
      } catch {
        // closed already
      }
    }
  }
  return scan;
}

/** Apparent size of everything under `dir` (links not followed); stops early once over `stopAboveBytes`. */
export async function directoryBytes(dir: string, stopAboveBytes = Infinity): Promise<number> {
  return (await scanTree(dir, { maxBytes: stopAboveBytes, maxDepth: 256 })).bytes;
}

/** A coreutils/findutils tool with a time limit; resolves with up to five problem lines (never rejects). */
async function runTool(file: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; problems: string[] }> {
  const r = await runHostTool(file, args, timeoutMs);
  const problems = r.stderrLines.slice(0, 5);
  if (r.timedOut) problems.push(`${path.basename(file)} stopped after ${timeoutMs / 1000} s`);
  else if (!r.ok && !problems.length) problems.push(`${path.basename(file)}: ${r.error}`);
  return { ok: r.ok, problems };
}

/**
 * Hands every entry under `dir` (links themselves, not their targets) to `uid`. `chown -R -h`
 * walks with openat (any depth); a bad entry is reported, never thrown; bounded in time.
 */
export async function chownTree(dir: string, uid: number, gid: number, timeoutMs = 120_000): Promise<string[]> {
  const { problems } = await runTool('chown', ['-R', '-h', `${uid}:${gid}`, '--', dir], timeoutMs);
  return problems;
}

/**
 * Removes what was created under `dir` at or after `sinceMs` (birth time where the file system
 * keeps it, else change time): a step's over-limit content. `find -delete` walks with openat.
 */
export async function removeCreatedSince(dir: string, sinceMs: number, timeoutMs = 120_000): Promise<string[]> {
  const at = `@${(sinceMs / 1000).toFixed(3)}`;
  let result = await runTool('find', [dir, '-mindepth', '1', '-newerBt', at, '-delete'], timeoutMs);
  if (!result.ok && result.problems.some((p) => /birth time/i.test(p))) {
    result = await runTool('find', [dir, '-mindepth', '1', '-newerct', at, '-delete'], timeoutMs);
  }
  // Folders that existed before and merely gained entries are not empty after: that is expected.
  return result.problems.filter((p) => !/Directory not empty/.test(p));
}
