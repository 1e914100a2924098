/**
 * A read tripwire on a file: its access time is set before its modification time, so the first
 * read after that moves it (Linux `relatime`, the default, updates atime exactly then). The scorer
 * arms one on the decoy label file: a method that opens it, even only to look at its distribution,
 * is caught, not just one that copies it. Filesystems mounted `noatime` record no reads: arming then
 * says so (undefined) and the scorer falls back to comparing predictions with the decoy.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface ReadTripwire {
  /** Whether the file was read (or its times changed) since it was armed. */
  tripped(): Promise<boolean>;
}

const BACKDATE_MS = 60_000;
const SLACK_MS = 1000;

export async function armReadTripwire(file: string): Promise<ReadTripwire | undefined> {
  if (!(await recordsReads(path.dirname(file)))) return undefined;
  const armed = await backdateAccess(file);
  return {
    async tripped() {
      const now = await fs.lstat(file).catch(() => undefined);
      // Gone or replaced counts as touched: only the method's code could have done it.
      // A read moves the access time to now, a minute past the armed value; a copy of the file's times
      // (a sandbox that copies the workspace in and out) may round them by a microsecond.
      return !now || now.atimeMs - armed.atimeMs > SLACK_MS || Math.abs(now.mtimeMs - armed.mtimeMs) > SLACK_MS || now.ino !== armed.ino;
    },
  };
}

async function backdateAccess(file: string): Promise<{ atimeMs: number; mtimeMs: number; ino: number }> {
  const stat = await fs.lstat(file);
  await fs.utimes(file, new Date(stat.mtimeMs - BACKDATE_MS), stat.mtime);
  const armed = await fs.lstat(file);
  return { atimeMs: armed.atimeMs, mtimeMs: armed.mtimeMs, ino: armed.ino };
}

/** Probes the folder's filesystem: does reading a backdated file move its access time? */
async function recordsReads(dir: string): Promise<boolean> {
  const probe = path.join(dir, `.atime-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    await fs.writeFile(probe, 'probe');
    const armed = await backdateAccess(probe);
    await fs.readFile(probe);
    return (await fs.lstat(probe)).atimeMs - armed.atimeMs > SLACK_MS;
  } catch {
    return false;
  } finally {
    await fs.rm(probe, { force: true });
  }
}
