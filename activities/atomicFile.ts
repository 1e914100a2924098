/**
 * Files written aside and renamed into place, so a crash never leaves a half-written one that
 * looks whole. The store and the caches write thousands of small files a minute under a few
 * folders: folders this process has made are remembered, so a write into one skips its mkdir.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

/** Folders known to exist; cleared when it grows past this (a long-lived worker sees many runs). */
const MAX_KNOWN_FOLDERS = 10_000;
const knownFolders = new Set<string>();

async function ensureFolder(folder: string, mode?: number): Promise<void> {
  if (knownFolders.has(folder)) return;
  await fs.mkdir(folder, { recursive: true, mode });
  if (knownFolders.size >= MAX_KNOWN_FOLDERS) knownFolders.clear();
  knownFolders.add(folder);
}

/** Random once per process, then counted: unique beside other processes and hosts sharing the disk. */
const processTag = randomBytes(6).toString('hex');
let written = 0;

function tempNameFor(file: string): string {
  return `${file}.${processTag}-${++written}.tmp`;
}

/**
 * Runs `write(tmp)` for a temporary name beside `file`, then renames it into place. A folder
 * removed since it was made (a user cleaning up) is made again and the write tried once more.
 */
async function placeAtomically(file: string, write: (tmp: string) => Promise<void>, mode?: number): Promise<void> {
  const folder = path.dirname(file);
  await ensureFolder(folder, mode);
  const tmp = tempNameFor(file);
  try {
    await write(tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !knownFolders.delete(folder)) throw err;
    await ensureFolder(folder, mode);
    await write(tmp);
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Writes `body` to `file` atomically, making its folder (with `folderMode`, when given) if needed. */
export async function writeFileAtomic(file: string, body: string | Buffer, options: { folderMode?: number } = {}): Promise<void> {
  await placeAtomically(file, (tmp) => fs.writeFile(tmp, body), options.folderMode);
}

/**
 * Copies `source` to `target` atomically. One copy call on the file-IO thread instead of the
 * open, write and close of writing the bytes again; a cheap clone where the file system has them.
 */
export async function copyFileAtomic(source: string, target: string): Promise<void> {
  await placeAtomically(target, (tmp) => fs.copyFile(source, tmp, constants.COPYFILE_FICLONE));
}
