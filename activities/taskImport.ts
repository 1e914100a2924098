/**
 * Importing tasks (`lab tasks import`): MLR-Bench-style task folders (`<name>/task.md`) and flat
 * `<name>.md` files are validated like any task, de-duplicated by content, and copied into one
 * destination (`<LAB_HOME>/tasks/` by default) as `<name>/task.md`.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomicFile.js';
import { EXAMPLE_TASKS_DIR, importedTasksDir } from './config.js';
import { describeTaskSet, type TaskSetCounts } from './taskSets.js';
import { readTaskFile, readTaskFolder, TaskError, type LoadedTask } from './tasks.js';

export interface ImportReport {
  source: string;
  dest: string;
  /** Written: new names, and with `force`, names whose task.md changed. */
  imported: string[];
  /** Those of `imported` that replaced a different task.md of the same name. */
  replaced: string[];
  /** Already in the destination with the same content. */
  unchanged: string[];
  /** Not written: the same content is imported (or being imported) under `sameAs`. */
  duplicates: Array<{ name: string; file: string; sameAs: string }>;
  refused: Array<{ name: string; reason: string }>;
  /** Loose notes beside the tasks (README.md, LICENSE*.md, *metadata.md), not taken for tasks. */
  skipped: Array<{ file: string; reason: string }>;
  /** Of the tasks now in the destination from this source (imported and unchanged). */
  counts: TaskSetCounts;
}

interface Candidate {
  name: string;
  kind: 'folder' | 'file';
  /** The file it came from, as shown in the report. */
  file: string;
  read(): Promise<LoadedTask>;
}

/** MLR-Bench keeps a LICENSE-NOTE.md and task_metadata.md beside its tasks; such notes are not tasks. */
const NOTE = /^(readme|licen[cs]e|notice|copying|changelog|contributing|authors)([-_.].*)?\.md$|(^|[-_])metadata\.md$/i;

export async function importTasks(source: string, dest: string = importedTasksDir(), options: { force?: boolean } = {}): Promise<ImportReport> {
  const { candidates, skipped } = await findCandidates(source);
  const report: ImportReport = { source, dest: path.resolve(dest), imported: [], replaced: [], unchanged: [], duplicates: [], refused: [], skipped, counts: describeTaskSet([]) };
  const examples = new Set(await fs.readdir(EXAMPLE_TASKS_DIR).catch(() => []));
  const intoExamples = path.resolve(dest) === EXAMPLE_TASKS_DIR;
  const destByHash = await hashesIn(dest);
  const seen = new Map<string, string>();

  for (const [name, group] of groupByName(candidates)) {
    let task: LoadedTask;
    try {
      const read = await Promise.all(group.map((c) => c.read()));
      if (read.some((t) => t.content !== read[0].content)) {
        throw new TaskError(`"${name}" is in the source twice with different content (${group.map((c) => c.file).join(', ')}); keep one`);
      }
      task = read[0];
      if (examples.has(name) && !intoExamples) {
        // `lab run <name>` resolves example tasks first, so an imported twin could never be run by name.
        throw new TaskError(`a task named "${name}" already ships in tasks/examples, which \`lab run ${name}\` would use; rename it`);
      }
    } catch (err) {
      if (!(err instanceof TaskError)) throw err;
      report.refused.push({ name, reason: err.message });
      continue;
    }
    // The same file given twice (a folder and a flat .md of one name) is a duplicate of itself.
    for (const extra of group.slice(1)) report.duplicates.push({ name, file: extra.file, sameAs: name });

    const hash = sha256(task.content);
    const target = path.join(dest, name, 'task.md');
    const existing = await fs.readFile(target, 'utf8').catch(() => undefined);
    if (existing === task.content) {
      report.unchanged.push(name);
      seen.set(hash, name);
      continue;
    }
    const sameAs = seen.get(hash) ?? destByHash.get(hash);
    if (sameAs) {
      report.duplicates.push({ name, file: group[0].file, sameAs });
      continue;
    }
    if (existing !== undefined && !options.force) {
      report.refused.push({ name, reason: `task "${name}" is already imported with different content (${target}); pass --force to replace it` });
      continue;
    }
    // A half-written task.md would be a valid-looking, wrong task.
    await writeFileAtomic(target, task.content);
    report.imported.push(name);
    if (existing !== undefined) report.replaced.push(name);
    seen.set(hash, name);
  }
  report.counts = describeTaskSet([...report.imported, ...report.unchanged].map((name) => ({ name })));
  return report;
}

/** What the source holds: itself as one task, or its task folders and flat `.md` files. */
async function findCandidates(source: string): Promise<{ candidates: Candidate[]; skipped: ImportReport['skipped'] }> {
  const stat = await fs.stat(source).catch(() => undefined);
  if (!stat) throw new TaskError(`task source not found: ${source}`);
  const asFolder = (dir: string): Candidate => ({ name: path.basename(dir), kind: 'folder', file: path.join(dir, 'task.md'), read: () => readTaskFolder(dir) });
  const asFile = (file: string): Candidate => ({ name: path.basename(file).replace(/\.md$/i, ''), kind: 'file', file, read: () => readTaskFile(file) });
  if (stat.isFile()) {
    if (!/\.md$/i.test(source)) throw new TaskError(`${source} is neither a folder nor a .md task file`);
    return { candidates: [asFile(source)], skipped: [] };
  }
  // A task folder itself: its other files are the task's own, not more tasks.
  if (await isFile(path.join(source, 'task.md'))) return { candidates: [asFolder(source)], skipped: [] };

  const entries = await fs.readdir(source, { withFileTypes: true });
  const candidates: Candidate[] = [];
  const skipped: ImportReport['skipped'] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(source, e.name);
    if (e.isDirectory()) candidates.push(asFolder(full));
    else if (!/\.md$/i.test(e.name)) continue;
    else if (NOTE.test(e.name)) skipped.push({ file: full, reason: 'notes beside the tasks, not tasks (to import one, put it in a folder as <name>/task.md)' });
    else candidates.push(asFile(full));
  }
  if (!candidates.length) {
    throw new TaskError(`no task folders in ${source}: expected one folder per task holding a task.md, or <name>.md files`);
  }
  return { candidates, skipped };
}

/** Candidates by name, names in code-point order, a name's folder before its flat file. */
function groupByName(candidates: Candidate[]): Array<[string, Candidate[]]> {
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) groups.set(c.name, [...(groups.get(c.name) ?? []), c]);
  for (const group of groups.values()) group.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'folder' ? -1 : 1));
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The tasks already in `dest`, by the sha256 of their task.md. */
async function hashesIn(dest: string): Promise<Map<string, string>> {
  const byHash = new Map<string, string>();
  const entries = await fs.readdir(dest, { withFileTypes: true }).catch(() => []);
  for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const content = await fs.readFile(path.join(dest, e.name, 'task.md'), 'utf8').catch(() => undefined);
    if (content !== undefined && !byHash.has(sha256(content))) byHash.set(sha256(content), e.name);
  }
  return byHash;
}


function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isFile(), () => false);
}
