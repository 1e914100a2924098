/**
 * Run workspaces (`<LAB_HOME>/workspaces/<runId>/`): where they are, paths confined to them
 * (symbolic links included), and snapshots that tell which files a command changed.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { workspacePathSchema, type FileChange } from '../../common/environment.js';
import { isValidRunId, RUN_ID_RULE } from '../../common/runIds.js';
import { workspaceRoot } from '../config.js';
import { walkTree, type SkippedEntry } from '../fsWalk.js';

/** Files up to this size get a sha256 in snapshots (larger ones are compared by size and mtime). */
export const SNAPSHOT_HASH_MAX_BYTES = 1024 * 1024;
/** Bytes hashed per snapshot at most; past it files are compared by size and mtime only. */
export const SNAPSHOT_HASH_BUDGET_BYTES = 64 * 1024 * 1024;
/** A workspace with more entries than this is listed in part (the snapshot says so). */
export const SNAPSHOT_MAX_ENTRIES = 20_000;
/** A snapshot that takes longer than this stops where it is (and says so). */
export const SNAPSHOT_TIME_LIMIT_MS = 15_000;
/** Entries of one folder listed at most, so that a huge folder does not hide the ones beside it (results/). */
export const SNAPSHOT_MAX_PER_FOLDER = 5_000;

export class WorkspacePathError extends Error {
  override name = 'WorkspacePathError';
}

export function workspaceDir(runId: string): string {
  if (!isValidRunId(runId)) throw new WorkspacePathError(`invalid run id ${JSON.stringify(runId)}: ${RUN_ID_RULE}`);
  return path.join(workspaceRoot(), runId);
}

/** Creates the run's workspace if needed; returns its real path. */
export async function ensureWorkspace(runId: string): Promise<string> {
  const dir = workspaceDir(runId);
  await fs.mkdir(dir, { recursive: true });
  return fs.realpath(dir);
}

/**
 * The run's workspace, emptied first: for the first step of an experiment that started over after
 * losing its host, when the host it lands on may hold a workspace of the attempt before (a host that
 * came back after it was given up).
 */
export async function emptyWorkspace(runId: string): Promise<string> {
  await fs.rm(workspaceDir(runId), { recursive: true, force: true });
  return ensureWorkspace(runId);
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/**
 * The host path of `rel` inside `workspace` (a real path). Refuses absolute paths, "..", and
 * symbolic links (at any level) that lead outside or nowhere. The target itself may not exist yet.
 */
export async function resolveInWorkspace(workspace: string, rel: string): Promise<string> {
  const parsed = workspacePathSchema.safeParse(rel);
  if (!parsed.success) throw new WorkspacePathError(`${JSON.stringify(rel)} ${parsed.error.issues[0]?.message ?? 'is not a workspace path'}`);
  const parts = rel.split('/').filter((p) => p && p !== '.');
  let current = workspace;
  for (const part of parts) {
    current = path.join(current, part);
    let stat;
    try {
      stat = await fs.lstat(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw err;
    }
    if (!stat.isSymbolicLink()) continue;
    let target: string;
    try {
      target = await fs.realpath(current);
    } catch {
      throw new WorkspacePathError(`${rel}: ${path.relative(workspace, current)} is a symbolic link to nothing`);
    }
    if (!inside(workspace, target)) throw new WorkspacePathError(`${rel}: ${path.relative(workspace, current)} is a symbolic link that leads outside the workspace`);
  }
  const full = path.join(workspace, ...parts);
  if (!inside(workspace, full)) throw new WorkspacePathError(`${rel} is outside the workspace`);
  return full;
}

export interface WorkspaceEntry {
  /** Relative to the workspace, with "/". */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  bytes: number;
  mtimeMs: number;
  /** Regular files up to {@link SNAPSHOT_HASH_MAX_BYTES}. */
  sha256?: string;
}

export interface WorkspaceSnapshot {
  entries: WorkspaceEntry[];
  /** Sum of the entries' sizes. */
  totalBytes: number;
  /** More than {@link SNAPSHOT_MAX_ENTRIES} entries, a folder over {@link SNAPSHOT_MAX_PER_FOLDER}, or over {@link SNAPSHOT_TIME_LIMIT_MS}: the rest is not listed. */
  truncated: boolean;
  /** Entries that could not be listed (unreadable folder, path over PATH_MAX, name not UTF-8), the first hundred. */
  skipped?: SkippedEntry[];
  skippedCount?: number;
  /** Why the listing is incomplete, in words, when it is. */
  note?: string;
}

/**
 * Every entry under `dir` (links are listed, never followed), sorted by path. Bounded: at most
 * `maxEntries` names are read (a folder of a million files costs no more) and the walk stops at
 * {@link SNAPSHOT_TIME_LIMIT_MS}; entries it cannot list are skipped and reported, never thrown.
 */
export async function snapshotDirectory(dir: string, options: { hash?: boolean; maxEntries?: number; maxPerFolder?: number; timeLimitMs?: number } = {}): Promise<WorkspaceSnapshot> {
  const hash = options.hash ?? true;
  const entries: WorkspaceEntry[] = [];
  let totalBytes = 0;
  let hashBudget = SNAPSHOT_HASH_BUDGET_BYTES;
  const maxEntries = options.maxEntries ?? SNAPSHOT_MAX_ENTRIES;
  const limits = { maxEntries, maxPerFolder: options.maxPerFolder ?? Math.min(maxEntries, SNAPSHOT_MAX_PER_FOLDER), timeLimitMs: options.timeLimitMs ?? SNAPSHOT_TIME_LIMIT_MS };
  const walk = await walkTree(dir, limits, async (e, report) => {
    let stat;
    try {
      stat = await fs.lstat(e.full);
    } catch (err) {
      // Gone since the folder was read (not an error), or unreadable: say which.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') report.skip(e.rel, `cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`);
      return false;
    }
    const kind: WorkspaceEntry['kind'] = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : 'other';
    const entry: WorkspaceEntry = { path: e.rel, kind, bytes: kind === 'dir' ? 0 : stat.size, mtimeMs: Math.round(stat.mtimeMs) };
    if (hash && kind === 'file' && stat.size <= SNAPSHOT_HASH_MAX_BYTES && stat.size <= hashBudget) {
      hashBudget -= stat.size;
      entry.sha256 = await sha256File(e.full, stat).catch(() => undefined);
    }
    entries.push(entry);
    totalBytes += entry.bytes;
    return kind === 'dir';
  });
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const snapshot: WorkspaceSnapshot = { entries, totalBytes, truncated: walk.truncated !== false || walk.partialCount > 0 };
  if (walk.skippedCount) Object.assign(snapshot, { skipped: walk.skipped, skippedCount: walk.skippedCount });
  const note = walk.note('the snapshot');
  if (note) snapshot.note = note;
  return snapshot;
}

/** The run's workspace as it is now: what the experiment stage collects results from. */
export async function snapshotWorkspace(runId: string): Promise<WorkspaceSnapshot> {
  const dir = workspaceDir(runId);
  try {
    await fs.access(dir);
  } catch {
    return { entries: [], totalBytes: 0, truncated: false };
  }
  return snapshotDirectory(await fs.realpath(dir));
}

/**
 * Reads one regular file of the run's workspace (links are followed only inside it). Throws
 * WorkspacePathError for a path outside, a folder or a special file, or a file over `maxBytes`.
 */
export async function readWorkspaceFile(runId: string, rel: string, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
  const workspace = await fs.realpath(workspaceDir(runId));
  const full = await resolveInWorkspace(workspace, rel);
  const stat = await fs.stat(full);
  if (!stat.isFile()) throw new WorkspacePathError(`${rel} is not a regular file`);
  if (stat.size > maxBytes) throw new WorkspacePathError(`${rel} is ${stat.size} bytes, over the ${maxBytes}-byte limit`);
  const handle = await fs.open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Files (and links) added, modified or deleted between two snapshots; folders are implied. */
export function diffSnapshots(before: WorkspaceSnapshot, after: WorkspaceSnapshot): FileChange[] {
  const old = new Map(before.entries.filter((e) => e.kind !== 'dir').map((e) => [e.path, e]));
  const changes: FileChange[] = [];
  for (const e of after.entries) {
    if (e.kind === 'dir') continue;
    const prev = old.get(e.path);
    old.delete(e.path);
    if (!prev) changes.push({ path: e.path, change: 'added', bytes: e.bytes });
    else if (prev.kind !== e.kind || prev.bytes !== e.bytes || prev.sha256 !== e.sha256 || (e.sha256 === undefined && prev.mtimeMs !== e.mtimeMs)) {
      changes.push({ path: e.path, change: 'modified', bytes: e.bytes });
    }
  }
  // Entries past a truncated listing are unknown, not deleted; so are those under a skipped entry.
  const unknown = new Set((after.skipped ?? []).map((s) => s.path));
  const underSkipped = (p: string) => unknown.size > 0 && p.split('/').some((_, i, parts) => unknown.has(parts.slice(0, i + 1).join('/')));
  if (!after.truncated && (after.skippedCount ?? 0) <= (after.skipped?.length ?? 0)) {
    for (const e of old.values()) if (!underSkipped(e.path)) changes.push({ path: e.path, change: 'deleted', bytes: 0 });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Hashes of files seen unchanged (same inode, size, mtime): each step snapshots twice. */
const hashCache = new Map<string, string>();

async function sha256File(file: string, stat: { ino: number; size: number; mtimeMs: number }): Promise<string> {
  const key = `${file}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
  const cached = hashCache.get(key);
  if (cached) return cached;
  // Opened without following a link or waiting on a FIFO that replaced the file since its lstat.
  const handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  let body: Buffer;
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${file} is no longer a regular file`);
    body = await handle.readFile();
  } finally {
    await handle.close();
  }
  const digest = createHash('sha256').update(body).digest('hex');
  if (hashCache.size > 50_000) hashCache.clear();
  hashCache.set(key, digest);
  return digest;
}
