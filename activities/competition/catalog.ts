/**
 * The competition catalog: `tasks/competitions/<name>/` (and `LAB_COMPETITIONS_DIR`), each folder
 * checked before anything runs: task.md, competition.json, reference.json, the trusted scripts and
 * the starter code. Layout and rules: docs/competitions.md.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { competitionReferenceSchema, competitionSpecSchema } from '../../common/competition.js';
import { competitionSearchPath } from './paths.js';

/** competition.json as this module reads it: the contract's fields plus which harness scores it. */
export const competitionSpecFileSchema = competitionSpecSchema.extend({
  /**
   * `predictions` (default): run.py writes predictions and evaluate.py scores them in a process of
   * its own. `mlrc`: a task imported from MLRC-Bench, scored by its own evaluation code (see mlrc.ts).
   */
  harness: z.enum(['predictions', 'mlrc']).default('predictions'),
});
export type CompetitionSpecFile = z.output<typeof competitionSpecFileSchema>;

/** reference.json as this module reads it: plus the same two methods measured on the dev split (the env's dev reward). */
export const competitionReferenceFileSchema = competitionReferenceSchema.extend({
  dev: z.object({ baseline: z.number(), reference: z.number() }).optional(),
});
export type CompetitionReferenceFile = z.output<typeof competitionReferenceFileSchema>;

export interface CompetitionTask {
  name: string;
  folder: string;
  spec: CompetitionSpecFile;
  /** Absent only before `npm run competitions:measure` wrote it (`requireReference: false`). */
  reference?: CompetitionReferenceFile;
  taskText: string;
}

export class CompetitionError extends Error {
  override name = 'CompetitionError';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_TASK_MD_BYTES = 64 * 1024;

/** Files every task of a harness needs (relative to its folder). */
export const REQUIRED_FILES: Record<CompetitionSpecFile['harness'], string[]> = {
  predictions: ['task.md', 'competition.json', 'prepare.py', 'evaluate.py', 'starter/run.py', 'starter/methods/__init__.py'],
  mlrc: ['task.md', 'competition.json', 'starter/run.py', 'starter/methods/__init__.py', 'mlrc-data/dev', 'mlrc-data/test'],
};

export async function findCompetitionFolder(name: string): Promise<string> {
  if (!NAME.test(name)) throw new CompetitionError(`invalid competition name ${JSON.stringify(name)}: letters, digits, '.', '_' or '-'`);
  for (const dir of competitionSearchPath()) {
    const folder = path.join(dir, name);
    if (await exists(path.join(folder, 'competition.json'))) return folder;
  }
  throw new CompetitionError(`competition not found: "${name}" (looked in ${competitionSearchPath().join(', ')})`);
}

/** Loads and checks one competition by name. */
export async function loadCompetition(name: string, options: { requireReference?: boolean } = {}): Promise<CompetitionTask> {
  return readCompetitionFolder(await findCompetitionFolder(name), options);
}

export async function readCompetitionFolder(folder: string, options: { requireReference?: boolean } = {}): Promise<CompetitionTask> {
  const name = path.basename(folder);
  const spec = parseJson(name, 'competition.json', competitionSpecFileSchema, await readText(folder, 'competition.json'));
  if (spec.name !== name) throw new CompetitionError(`competition "${name}": competition.json names "${spec.name}"; the folder and the name must agree`);
  for (const rel of REQUIRED_FILES[spec.harness]) {
    if (!(await exists(path.join(folder, rel)))) throw new CompetitionError(`competition "${name}": ${rel} is missing`);
  }
  const taskText = await readText(folder, 'task.md');
  if (Buffer.byteLength(taskText) > MAX_TASK_MD_BYTES) throw new CompetitionError(`competition "${name}": task.md is over ${MAX_TASK_MD_BYTES} bytes`);
  if (!taskText.trim()) throw new CompetitionError(`competition "${name}": task.md is empty`);
  let reference: CompetitionReferenceFile | undefined;
  if (await exists(path.join(folder, 'reference.json'))) {
    reference = parseJson(name, 'reference.json', competitionReferenceFileSchema, await readText(folder, 'reference.json'));
    if (reference.reference.score === reference.baseline.score) throw new CompetitionError(`competition "${name}": reference.json has no gap (baseline and reference both ${reference.baseline.score})`);
    const better = spec.metric.direction === 'higher' ? reference.reference.score > reference.baseline.score : reference.reference.score < reference.baseline.score;
    if (!better) throw new CompetitionError(`competition "${name}": the reference (${reference.reference.score}) is not better than the baseline (${reference.baseline.score}) for a ${spec.metric.direction}-is-better metric`);
  } else if (options.requireReference !== false) {
    throw new CompetitionError(`competition "${name}": reference.json is missing (run \`npm run competitions:measure -- --task ${name}\`)`);
  }
  return { name, folder, spec, reference, taskText };
}

export interface CompetitionSummary {
  name: string;
  folder: string;
  title?: string;
  metric?: { name: string; direction: 'higher' | 'lower' };
  baseline?: number;
  reference?: number;
  /** Why the folder is not usable, when it is not. */
  error?: string;
}

/** Every competition on the search path (a name found twice: the first wins, as in loadCompetition). */
export async function listCompetitions(): Promise<CompetitionSummary[]> {
  const seen = new Set<string>();
  const out: CompetitionSummary[] = [];
  for (const dir of competitionSearchPath()) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (seen.has(name) || !(await exists(path.join(dir, name, 'competition.json')))) continue;
      seen.add(name);
      const folder = path.join(dir, name);
      try {
        const task = await readCompetitionFolder(folder, { requireReference: false });
        out.push({
          name,
          folder,
          title: task.spec.title,
          metric: { name: task.spec.metric.name, direction: task.spec.metric.direction },
          baseline: task.reference?.baseline.score,
          reference: task.reference?.reference.score,
          ...(task.reference ? {} : { error: 'not measured yet: reference.json is missing' }),
        });
      } catch (err) {
        out.push({ name, folder, error: (err as Error).message });
      }
    }
  }
  return out;
}

async function readText(folder: string, rel: string): Promise<string> {
  try {
    return await fs.readFile(path.join(folder, rel), 'utf8');
  } catch (err) {
    throw new CompetitionError(`competition "${path.basename(folder)}": cannot read ${rel}: ${(err as Error).message}`);
  }
}

function parseJson<T extends z.ZodType>(name: string, file: string, schema: T, text: string): z.output<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CompetitionError(`competition "${name}": ${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new CompetitionError(`competition "${name}": ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
