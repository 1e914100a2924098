/**
 * A bounded walk of a host folder that untrusted code may have filled (a run's workspace, a
 * competition's files). It never follows links, never opens a file, stops after a number of
 * entries or a time limit and says so, and skips what it cannot use (an unreadable folder, a path
 * longer than the system allows, a name that is not UTF-8) with a reason instead of throwing.
 */
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';

/** Linux's PATH_MAX: a longer path cannot be passed to a system call. */
export const PATH_MAX_BYTES = 4096;
/** Default time limit of a walk. */
export const WALK_TIME_LIMIT_MS = 15_000;
/** Skipped entries named one by one in a report (the rest are counted). */
export const SKIPPED_SHOWN = 100;

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface WalkEntry {
  /** Relative to the root, with "/". */
  rel: string;
  /** Host path. */
  full: string;
  /** Base name. */
  name: string;
  kind: EntryKind;
  /** Folders from the root (a top-level entry: 0). */
  depth: number;
}

export interface SkippedEntry {
  /** Relative path; bytes that are not UTF-8 and control characters are written as \xNN. */
  path: string;
  reason: string;
}

export interface WalkOptions {
  /** Names read at most (every name counts, listed or not); past it the walk stops: `truncated: 'entries'`. */
  maxEntries: number;
  /**
   * Names read at most from one folder; the walk goes on with the others (`partial`). So one folder
   * of a million files does not use up the whole budget before the folders beside it are seen.
   */
  maxPerFolder?: number;
  /** Default {@link WALK_TIME_LIMIT_MS}; past it the walk stops: `truncated: 'time'`. */
  timeLimitMs?: number;
  /** Names left out without a word (hidden files, caches); a folder left out is not entered. */
  ignore?: (name: string, rel: string, kind: EntryKind) => boolean;
}

/** What a walk read, what it had to leave out, and whether it stopped early. */
export class WalkReport {
  entriesRead = 0;
  truncated: false | 'entries' | 'time' = false;
  /** Folders listed in part (over `maxPerFolder`), the first hundred, and how many. */
  readonly partial: string[] = [];
  partialCount = 0;
  readonly skipped: SkippedEntry[] = [];
  skippedCount = 0;

  /** `count` > 1: one line for many entries left out for one reason. */
  skip(rel: string, reason: string, count = 1): void {
    this.skippedCount += count;
    if (this.skipped.length < SKIPPED_SHOWN) this.skipped.push({ path: printable(rel), reason });
  }

  /** One line for a person, or undefined when nothing was left out. */
  note(what = 'the listing'): string | undefined {
    const parts: string[] = [];
    if (this.truncated === 'entries') parts.push(`${what} stopped after ${this.entriesRead} entries`);
    if (this.truncated === 'time') parts.push(`${what} stopped at its time limit after ${this.entriesRead} entries`);
    if (this.partialCount) parts.push(`${this.partialCount} folder${this.partialCount === 1 ? '' : 's'} listed in part, having too many entries (${this.partial.slice(0, 3).join(', ')}${this.partialCount > 3 ? ', …' : ''})`);
    if (this.skippedCount) parts.push(`${this.skippedCount} entr${this.skippedCount === 1 ? 'y' : 'ies'} skipped (${this.skipped.slice(0, 3).map((s) => `${s.path}: ${s.reason}`).join('; ')}${this.skippedCount > 3 ? '; …' : ''})`);
    return parts.length ? parts.join('; ') : undefined;
  }
}

/**
 * Visits every entry under `root` breadth first, names sorted within a folder. `visit` may return
 * false to keep a folder closed, and may call `report.skip` for an entry it could not use.
 * A missing or unreadable root gives an empty walk (the root's error is in `skipped`).
 */
export async function walkTree(root: string, options: WalkOptions, visit: (entry: WalkEntry, report: WalkReport) => Promise<boolean | void> | boolean | void): Promise<WalkReport> {
  const report = new WalkReport();
  const deadline = Date.now() + (options.timeLimitMs ?? WALK_TIME_LIMIT_MS);
  const queue: Array<{ rel: string; depth: number }> = [{ rel: '', depth: -1 }];
  // An index, not shift(): shift() on a long queue is quadratic.
  for (let head = 0; head < queue.length && !report.truncated; head++) {
    const { rel, depth } = queue[head];
    queue[head] = undefined as never;
    const dirPath = rel ? path.join(root, rel) : root;
    const left = options.maxEntries - report.entriesRead;
    const perFolder = options.maxPerFolder ?? Infinity;
    const read = await readNames(dirPath, Math.min(left, perFolder), deadline);
    if ('error' in read) {
      if (rel || read.error !== 'ENOENT') report.skip(rel || '.', `cannot be read (${read.error})`);
      continue;
    }
    report.entriesRead += read.dirents.length;
    if (read.stopped === 'time' || (read.stopped === 'entries' && left <= perFolder)) report.truncated = read.stopped;
    else if (read.stopped === 'entries') {
      report.partialCount++;
      if (report.partial.length < SKIPPED_SHOWN) report.partial.push(printable(rel || '.'));
    }
    for (const { raw, dirent } of read.dirents) {
      if (Date.now() > deadline) {
        report.truncated = 'time';
        break;
      }
      const name = raw.toString('utf8');
      const childRel = rel ? `${rel}/${name}` : name;
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        report.skip(`${rel ? `${rel}/` : ''}${escapeBytes(raw)}`, 'name is not valid UTF-8');
        continue;
      }
      const kind: EntryKind = dirent.isFile() ? 'file' : dirent.isDirectory() ? 'dir' : dirent.isSymbolicLink() ? 'symlink' : 'other';
      if (options.ignore?.(name, childRel, kind)) continue;
      const full = path.join(root, childRel);
      if (Buffer.byteLength(full) >= PATH_MAX_BYTES) {
        report.skip(childRel, `path longer than the system allows (${PATH_MAX_BYTES} bytes)${kind === 'dir' ? '; not entered' : ''}`);
        continue;
      }
      const open = await visit({ rel: childRel, full, name, kind, depth: depth + 1 }, report);
      if (kind === 'dir' && open !== false) queue.push({ rel: childRel, depth: depth + 1 });
    }
  }
  return report;
}

/**
 * Up to `limit` names of one folder (read in batches, so a folder of a million names costs no
 * more than `limit`), sorted by their bytes.
 */
async function readNames(
  dir: string,
  limit: number,
  deadline: number,
): Promise<{ dirents: Array<{ raw: Buffer; dirent: Dirent }>; stopped?: 'entries' | 'time' } | { error: string }> {
  let handle;
  try {
    // Names as bytes: one that is not UTF-8 would not survive a round trip through a string.
    handle = await fs.opendir(dir, { encoding: 'buffer' as BufferEncoding, bufferSize: 1024 });
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  const dirents: Array<{ raw: Buffer; dirent: Dirent }> = [];
  let stopped: 'entries' | 'time' | undefined;
  try {
    for (;;) {
      const dirent = await handle.read();
      if (!dirent) break;
      if (dirents.length >= limit) {
        stopped = 'entries';
        break;
      }
      // Every 1,024 names (one batch), look at the clock.
      if ((dirents.length & 1023) === 1023 && Date.now() > deadline) {
        stopped = 'time';
        break;
      }
      const raw = dirent.name as unknown as Buffer;
      dirents.push({ raw, dirent });
    }
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    await handle.close().catch(() => undefined);
  }
  dirents.sort((a, b) => Buffer.compare(a.raw, b.raw));
  return { dirents, stopped };
}

/** A name as a person can read it on one line: control characters and non-UTF-8 bytes as \xNN. */
export function printable(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function escapeBytes(raw: Buffer): string {
  let out = '';
  for (const b of raw) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}
