/**
 * Task sets: which tasks `lab bench --tasks <spec>` runs. A spec is a comma-separated list of items,
 * and the set is the union of what each item selects:
 *
 *   iclr2025_wmark          a task name (as `lab run` resolves it)
 *   iclr2025_*  *wmark*     a glob over task names (picomatch)
 *   all                     every task `lab tasks list` shows
 *   venue:iclr  year:2025   a filter; `venue:iclr+year:2024` joins filters with `+`, all of which must hold
 *   ./my-tasks  /abs/task   a path: a task folder, or a folder of task folders
 *
 * The result is sorted by name, holds each task once, and every task in it is validated.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { parseTaskName, parseVenue, parseYear } from '../common/taskNames.js';
import { listTasks, readTaskFolder, TaskError, type LoadedTask, type TaskEntry } from './tasks.js';

export async function selectTasks(spec: string): Promise<LoadedTask[]> {
  const items = spec.split(',').map((s) => s.trim());
  if (!spec.trim() || items.some((s) => !s)) throw new TaskError(`task set "${spec}" has an empty item (items are comma-separated)`);
  let known: TaskEntry[] | undefined;
  const available = async () => (known ??= await listTasks());

  const chosen = new Map<string, string>();
  for (const item of items) {
    const folders = await selectItem(item, available);
    if (!folders.length) throw new TaskError(`no task matches '${item}' (see lab tasks list)`);
    for (const folder of folders) {
      const name = path.basename(folder);
      const other = chosen.get(name);
      // Results are keyed by task name, so two different tasks of one name cannot share a set.
      if (other && (await realpath(other)) !== (await realpath(folder))) {
        throw new TaskError(`two different tasks named "${name}" are selected: ${other} and ${folder}`);
      }
      chosen.set(name, other ?? folder);
    }
  }

  const names = [...chosen.keys()].sort(byName);
  const read = await Promise.allSettled(names.map((n) => readTaskFolder(chosen.get(n)!)));
  const problems = read.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (problems.length) {
    const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
    throw new TaskError(`${problems.length} selected task(s) are invalid: ${problems.slice(0, 3).join('; ')}${more}`);
  }
  return read.map((r) => (r as PromiseFulfilledResult<LoadedTask>).value);
}

/** The folders one item selects (possibly none). */
async function selectItem(item: string, available: () => Promise<TaskEntry[]>): Promise<string[]> {
  if (item === 'all') return (await available()).map((t) => t.folder);
  if (/^[a-z]+:/.test(item)) {
    const keep = parseFilter(item);
    return (await available()).filter((t) => keep(t.name)).map((t) => t.folder);
  }
  if (isPathLike(item)) return foldersAt(item);
  if (picomatch.scan(item).isGlob) {
    const matches = picomatch(item);
    return (await available()).filter((t) => matches(t.name)).map((t) => t.folder);
  }
  const byName = (await available()).find((t) => t.name === item);
  if (byName) return [byName.folder];
  // Like `lab run`, a plain word that is no task name may still be a folder here.
  return (await isDirectory(item)) ? foldersAt(item) : [];
}

/** `venue:iclr+year:2024` → a test on task names; every part must hold. */
function parseFilter(item: string): (name: string) => boolean {
  const tests = item.split('+').map((part) => {
    const m = /^([a-z]+):(.*)$/.exec(part.trim());
    const [key, value] = m ? [m[1], m[2]] : ['', part];
    try {
      if (key === 'venue') {
        const venue = parseVenue('venue')(value);
        return (name: string) => parseTaskName(name).venue === venue;
      }
      if (key === 'year') {
        const year = parseYear('year')(value);
        return (name: string) => parseTaskName(name).year === year;
      }
    } catch (err) {
      throw new TaskError(`task set item '${item}': ${(err as Error).message}`);
    }
    throw new TaskError(`task set item '${item}': unknown filter "${part}" (filters are venue:NAME and year:YYYY, joined with +)`);
  });
  return (name) => tests.every((t) => t(name));
}

function isPathLike(item: string): boolean {
  return item.includes('/') || item.includes(path.sep) || item === '.' || item === '..';
}

/** A task folder itself, else the task folders directly inside it. */
async function foldersAt(item: string): Promise<string[]> {
  const dir = path.resolve(item);
  if (!(await isDirectory(dir))) throw new TaskError(`task folder not found: ${item}`);
  if (await isFile(path.join(dir, 'task.md'))) return [dir];
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const folders: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && (await isFile(path.join(dir, e.name, 'task.md')))) folders.push(path.join(dir, e.name));
  }
  return folders;
}

export interface TaskSetCounts {
  total: number;
  /** Tasks per year (`"2025": 37`); names without a year count under `"other"`. */
  byYear: Record<string, number>;
  /** Tasks per venue (`"iclr": 68`); names without a venue count under `"other"`. */
  byVenue: Record<string, number>;
  /** `by year: 2023 73, 2024 91, 2025 37; by venue: iclr 68, ...`; empty when no name has a venue or year. */
  breakdown: string;
  /** One line for people: `201 tasks; <breakdown>`. */
  text: string;
}

/** Counts per venue and year of a set of tasks (anything with a name), for display. */
export function describeTaskSet(tasks: ReadonlyArray<{ name: string }>): TaskSetCounts {
  const byYear: Record<string, number> = {};
  const byVenue: Record<string, number> = {};
  for (const t of tasks) {
    const { venue, year } = parseTaskName(t.name);
    const y = year === undefined ? 'other' : String(year);
    byYear[y] = (byYear[y] ?? 0) + 1;
    byVenue[venue ?? 'other'] = (byVenue[venue ?? 'other'] ?? 0) + 1;
  }
  const sorted = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).sort(([a], [b]) => otherLast(a, b)));
  const show = (counts: Record<string, number>) => Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ');
  const years = sorted(byYear);
  const venues = sorted(byVenue);
  const breakdown = byYear.other === tasks.length ? '' : `by year: ${show(years)}; by venue: ${show(venues)}`;
  const text = `${tasks.length} task${tasks.length === 1 ? '' : 's'}${breakdown ? `; ${breakdown}` : ''}`;
  return { total: tasks.length, byYear: years, byVenue: venues, breakdown, text };
}

function otherLast(a: string, b: string): number {
  if (a === 'other' || b === 'other') return a === b ? 0 : a === 'other' ? 1 : -1;
  return byName(a, b);
}

/** Code-point order, so a set sorts the same on every machine and locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function realpath(p: string): Promise<string> {
  return fs.realpath(p).catch(() => path.resolve(p));
}
async function isDirectory(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}
async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isFile(), () => false);
}
