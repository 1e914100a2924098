/**
 * Names of scratch things a worker makes on the host (cgroups, workspace images, temp folders) that
 * carry the worker's pid and start time, so that the next worker knows one left by a crashed
 * worker and removes it. The start time guards against a recycled pid.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** `<pid>-<start time>` of a live process, or undefined. */
export function processIdentity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid}-${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return undefined;
  }
}

/** A name of the form PREFIX<pid>-<start>-<random> whose process is gone (or is another process now). */
export function isStaleName(name: string, prefix: string): boolean {
  const m = new RegExp(`^${prefix}(\\d+)-(\\d+)-[0-9a-f]+$`).exec(name);
  if (!m) return false;
  return processIdentity(Number(m[1])) !== `${m[1]}-${m[2]}`;
}

export function ownedName(prefix: string): string {
  return `${prefix}${processIdentity(process.pid) ?? `${process.pid}-0`}-${randomBytes(6).toString('hex')}`;
}
