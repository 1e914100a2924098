/** File helpers of the scorer: listings that never follow links, hashes, and reads that refuse links and special files. */
import { createHash } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { walkTree, type SkippedEntry } from '../fsWalk.js';

export interface Listing {
  /** Regular files, relative with "/", sorted. */
  files: string[];
  /** Symbolic links (never followed) and special files. */
  other: string[];
  /** Entries that could not be listed (unreadable folder, path over PATH_MAX, name not UTF-8), the first hundred. */
  unlisted?: SkippedEntry[];
  unlistedCount?: number;
  /** Stopped at {@link LIST_TREE_MAX_ENTRIES} or at the time limit: the rest is not listed. */
  truncated?: 'entries' | 'time';
}

/** Names a listing reads at most: a folder of a million files stops here instead of taking minutes. */
export const LIST_TREE_MAX_ENTRIES = 100_000;

/** Everything under `dir` (missing: empty); folders named in `skipDirs` are left out. Bounded, and never throws for a bad entry. */
export async function listTree(dir: string, skipDirs: string[] = [], options: { maxEntries?: number; timeLimitMs?: number } = {}): Promise<Listing> {
  const out: Listing = { files: [], other: [] };
  const walk = await walkTree(
    dir,
    { maxEntries: options.maxEntries ?? LIST_TREE_MAX_ENTRIES, timeLimitMs: options.timeLimitMs, ignore: (name, _rel, kind) => kind === 'dir' && skipDirs.includes(name) },
    (entry) => {
      if (entry.kind === 'file') out.files.push(entry.rel);
      else if (entry.kind !== 'dir') out.other.push(entry.rel);
    },
  );
  out.files.sort();
  out.other.sort();
  if (walk.skippedCount) Object.assign(out, { unlisted: walk.skipped, unlistedCount: walk.skippedCount });
  if (walk.truncated) out.truncated = walk.truncated;
  return out;
}

export function sha256(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export class NotARegularFile extends Error {}

/** Reads a regular file without following a link at its last component; refuses one over `maxBytes`. */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  const stat = await fs.lstat(file).catch(() => undefined);
  if (!stat) throw new NotARegularFile(`${path.basename(file)} does not exist`);
  if (!stat.isFile()) throw new NotARegularFile(`${path.basename(file)} is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`);
  if (stat.size > maxBytes) throw new NotARegularFile(`${path.basename(file)} is ${stat.size} bytes, over the ${maxBytes}-byte limit`);
  const handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Writes `body` at `file`, replacing a link or file already there (never writing through a link). */
export async function writeReplacing(file: string, body: Buffer | string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const stat = await fs.lstat(file).catch(() => undefined);
  if (stat && !stat.isFile()) await fs.rm(file, { recursive: true, force: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fs.writeFile(tmp, body, { flag: 'wx' });
  await fs.rename(tmp, file);
}

/** Whether the bytes look like text (no NUL), for line counts. */
export function isText(body: Buffer): boolean {
  return !body.subarray(0, 8192).includes(0);
}
