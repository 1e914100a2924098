/**
 * Task loading: a task is a folder holding `task.md` (a workshop call for papers).
 * The loader validates it so a bad task fails before anything is started.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { taskSearchPath } from './config.js';

/** Largest accepted task.md; MLR-Bench's largest is 7.7 KB, so this leaves ample room. */
export const MAX_TASK_BYTES = 64 * 1024;

export interface LoadedTask {
  name: string;
  folder: string;
  content: string;
  title: string;
}

export class TaskError extends Error {}

/** Resolves a task folder path or a task name, then validates its task.md. */
export async function loadTask(spec: string): Promise<LoadedTask> {
  if (!spec.trim()) throw new TaskError('no task given: pass a task folder or a task name (see `lab tasks`)');
  const folder = await resolveTaskFolder(spec);
  return readTaskFolder(folder);
}

async function resolveTaskFolder(spec: string): Promise<string> {
  const direct = path.resolve(spec);
  if (await isDirectory(direct)) return direct;
  if (path.basename(direct) === 'task.md' && (await isFile(direct))) return path.dirname(direct);
  if (!spec.includes('/') && !spec.includes(path.sep)) {
    for (const dir of taskSearchPath()) {
      const candidate = path.join(dir, spec);
      if (await isDirectory(candidate)) return candidate;
    }
  }
  throw new TaskError(`task not found: "${spec}" is neither a folder nor a known task name (see \`lab tasks\`)`);
}

/** Names a task may have: they become folder names and `lab run <name>` arguments. */
export const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function readTaskFolder(folder: string): Promise<LoadedTask> {
  const name = path.basename(folder);
  if (!TASK_NAME.test(name)) {
    throw new TaskError(`task folder name "${name}" must use letters, digits, '.', '_' or '-' only`);
  }
  const content = await readTaskText(name, path.join(folder, 'task.md'), `task "${name}" has no task.md (looked in ${folder})`);
  return { name, folder, content, title: taskTitle(content, name) };
}

/**
 * A task kept as one flat `<name>.md` file (MLR-Bench's own layout), checked like a task.md.
 * `folder` is where the task would live as a folder: the file's folder joined with its name.
 */
export async function readTaskFile(file: string): Promise<LoadedTask> {
  const name = path.basename(file).replace(/\.md$/i, '');
  if (!TASK_NAME.test(name)) {
    throw new TaskError(`task file name "${path.basename(file)}" must use letters, digits, '.', '_' or '-' only`);
  }
  const content = await readTaskText(name, file, `task "${name}": ${file} not found`);
  return { name, folder: path.join(path.dirname(file), name), content, title: taskTitle(content, name) };
}

/** The checks every task text passes: a file, at most MAX_TASK_BYTES, UTF-8, not empty, no control bytes. */
async function readTaskText(name: string, file: string, missing: string): Promise<string> {
  const base = path.basename(file);
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new TaskError(missing);
  }
  if (!stat.isFile()) throw new TaskError(`task "${name}": ${base} is not a file`);
  if (stat.size > MAX_TASK_BYTES) {
    throw new TaskError(`task "${name}": ${base} is ${stat.size} bytes, over the ${MAX_TASK_BYTES}-byte limit`);
  }
  const bytes = await fs.readFile(file);
  let content: string;
  try {
    content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TaskError(`task "${name}": ${base} is not valid UTF-8`);
  }
  if (!content.trim()) throw new TaskError(`task "${name}": ${base} is empty`);
  const control = firstControlCharacter(content);
  if (control) {
    throw new TaskError(`task "${name}": ${base} is not prose: it holds control character ${control.code} on line ${control.line}`);
  }
  return content;
}

/** Section headings some workshop pages open with; they say nothing about the task. */
const GENERIC_HEADING = /^(about( (the|this) workshop)?|overview|workshop overview|introduction|description|subject areas|topics( of interest)?|call for papers|scope|motivation)\s*:?$/i;

/** The first markdown heading that is not a generic section name, else the first non-empty line (82 MLR-Bench tasks have no `# ` title). */
export function taskTitle(content: string, fallback: string): string {
  const plain = (l: string) => l.replace(/^#+\s*/, '').replace(/\*\*/g, '');
  const lines = content.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !GENERIC_HEADING.test(plain(l)));
  const heading = lines.find((l) => /^#{1,3}\s+\S/.test(l));
  const line = plain(heading ?? lines[0] ?? fallback);
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

export interface TaskEntry {
  name: string;
  /** The folder `lab run <name>` uses. */
  folder: string;
  /** Folders holding a task of the same name that `lab run <name>` does NOT use (searched later). */
  shadowed: string[];
}

/** Every task reachable by name, for `lab tasks`; a name found in several folders resolves to the first. */
export async function listTasks(): Promise<TaskEntry[]> {
  const found = new Map<string, TaskEntry>();
  for (const dir of taskSearchPath()) {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory() || !(await isFile(path.join(dir, e.name, 'task.md')))) continue;
      const folder = path.join(dir, e.name);
      const known = found.get(e.name);
      if (known) known.shadowed.push(folder);
      else found.set(e.name, { name: e.name, folder, shadowed: [] });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Tabs, newlines and carriage returns are text; any other C0 control byte (NUL, ESC, ...) or DEL is not. */
function firstControlCharacter(content: string): { code: string; line: number } | undefined {
  const m = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.exec(content);
  if (!m) return undefined;
  const line = content.slice(0, m.index).split('\n').length;
  return { code: `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`, line };
}

async function isDirectory(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}
async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isFile(), () => false);
}
