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

/** Files up to this size get a sha256 in snapshots (larger ones are compared by size and mtime). */
export const SNAPSHOT_HASH_MAX_BYTES = 1024 * 1024;
/** Bytes hashed per snapshot at most; past it files are compared by size and mtime only. */
export const SNAPSHOT_HASH_BUDGET_BYTES = 64 * 1024 * 1024;
/** A workspace with more entries than this is listed in part (the snapshot says so). */
export const SNAPSHOT_MAX_ENTRIES = 20_000;

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
  /** More than {@link SNAPSHOT_MAX_ENTRIES} entries: the rest is not listed. */
  truncated: boolean;
}

/** Every entry under `dir` (links are listed, never followed), sorted by path. */
export async function snapshotDirectory(dir: string, options: { hash?: boolean; maxEntries?: number } = {}): Promise<WorkspaceSnapshot> {
  const hash = options.hash ?? true;
  const maxEntries = options.maxEntries ?? SNAPSHOT_MAX_ENTRIES;
  const entries: WorkspaceEntry[] = [];
  let totalBytes = 0;
  let hashBudget = SNAPSHOT_HASH_BUDGET_BYTES;
  let truncated = false;
  const pending = [''];
  while (pending.length && !truncated) {
    const rel = pending.shift()!;
    let names: string[];
    try {
      names = (await fs.readdir(path.join(dir, rel))).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (entries.length >= maxEntries) {
        truncated = true;
        break;
      }
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, childRel);
      let stat;
      try {
        stat = await fs.lstat(full);
      } catch {
        continue;
      }
      const kind: WorkspaceEntry['kind'] = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : 'other';
      const entry: WorkspaceEntry = { path: childRel, kind, bytes: kind === 'dir' ? 0 : stat.size, mtimeMs: Math.round(stat.mtimeMs) };
      if (hash && kind === 'file' && stat.size <= SNAPSHOT_HASH_MAX_BYTES && stat.size <= hashBudget) {
        hashBudget -= stat.size;
        entry.sha256 = await sha256File(full, stat).catch(() => undefined);
      }
      entries.push(entry);
      totalBytes += entry.bytes;
      if (kind === 'dir') pending.push(childRel);
    }
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, totalBytes, truncated };
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
  // Entries past a truncated listing are unknown, not deleted.
  if (!after.truncated) for (const e of old.values()) changes.push({ path: e.path, change: 'deleted', bytes: 0 });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Hashes of files seen unchanged (same inode, size, mtime): each step snapshots twice. */
const hashCache = new Map<string, string>();

async function sha256File(file: string, stat: { ino: number; size: number; mtimeMs: number }): Promise<string> {
  const key = `${file}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
  const cached = hashCache.get(key);
  if (cached) return cached;
  const digest = createHash('sha256').update(await fs.readFile(file)).digest('hex');
  if (hashCache.size > 50_000) hashCache.clear();
  hashCache.set(key, digest);
  return digest;
}
