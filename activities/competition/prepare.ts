/**
 * Setting a run up for a competition: the trusted prepare.py makes the data in the sandbox; the
 * scorer keeps its own copy (the hidden test split only there) outside the workspace; the workspace
 * gets the starter code, evaluate.py and the public data. Idempotent: a retried attempt reuses a
 * finished hidden folder and never overwrites the agent's methods/.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { SandboxLimits } from '../../common/environment.js';
import { ensureWorkspace, resolveInWorkspace } from '../environment/workspace.js';
import type { ExecOptions, SandboxBackend } from '../sandbox/index.js';
import { CompetitionError, exists, type CompetitionTask } from './catalog.js';
import { listTree, sha256, writeReplacing } from './files.js';
import { hiddenDir, hiddenRoot } from './paths.js';
import { dataSecret } from './secrets.js';
import { failureReason, runInSandbox } from './sandboxRun.js';
import { parseTable } from './table.js';

export const manifestSchema = z.object({
  task: z.string(),
  harness: z.enum(['predictions', 'mlrc']),
  /** Workspace files that must stay as prepared (starter files outside methods/, evaluate.py): path → sha256. */
  protected: z.record(z.string(), z.string()),
  /** Whose data secret made the data (a benchmark's id, or the run's own); never the secret itself. */
  dataKey: z.string().optional(),
  preparedAt: z.string(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** prepare.py is trusted and small; these only stop a broken one. */
const PREPARE_LIMITS: Partial<SandboxLimits> = { wallSeconds: 300, cpuSeconds: 300, memoryMb: 4096, workspaceMb: 2048 };
/** Trusted code shipped with the scorer, copied beside each task's prepare.py. */
const PREPARE_HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'harness', 'lab_secret.py');
/** What prepare.py must write (predictions harness). */
const PREPARED_FILES = ['public/train.csv', 'public/dev.csv', 'hidden/test.csv'];
const SKIP = ['__pycache__'];

export async function readManifest(runId: string): Promise<Manifest | undefined> {
  const text = await fs.readFile(path.join(hiddenDir(runId), 'manifest.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : manifestSchema.parse(JSON.parse(text));
}

export interface PrepareOptions {
  runId: string;
  task: CompetitionTask;
  backend: SandboxBackend;
  exec?: ExecOptions;
  /** Whose data secret to draw the data from: runs with one key see the same data. Default: the run's own. */
  dataKey?: string;
}

export async function prepareRun(opts: PrepareOptions): Promise<{ files: string[]; manifest: Manifest }> {
  const { runId, task } = opts;
  let manifest = await readManifest(runId);
  if (manifest && manifest.task !== task.name) throw new CompetitionError(`run ${runId} was prepared for competition "${manifest.task}", not "${task.name}"`);
  manifest ??= await buildHidden(opts);

  const workspace = await ensureWorkspace(runId);
  const hidden = hiddenDir(runId);
  const starter = path.join(task.folder, 'starter');
  for (const rel of (await listTree(starter, SKIP)).files) {
    const dest = await resolveInWorkspace(workspace, rel);
    // The agent's methods/ is its own: only missing starter files are filled in (a retried attempt).
    if (rel.startsWith('methods/') && (await fs.lstat(dest).catch(() => undefined))) continue;
    await writeReplacing(dest, await fs.readFile(path.join(starter, rel)));
  }
  await writeReplacing(await resolveInWorkspace(workspace, 'task.md'), task.taskText);
  if (manifest.harness === 'predictions') {
    await writeReplacing(await resolveInWorkspace(workspace, 'evaluate.py'), await fs.readFile(path.join(task.folder, 'evaluate.py')));
    for (const name of ['train.csv', 'dev.csv']) await writeReplacing(await resolveInWorkspace(workspace, `data/${name}`), await fs.readFile(path.join(hidden, 'public', name)));
  } else {
    const dev = path.join(hidden, 'public', 'data');
    for (const rel of (await listTree(dev)).files) await writeReplacing(await resolveInWorkspace(workspace, `data/${rel}`), await fs.readFile(path.join(dev, rel)));
  }
  return { files: (await listTree(workspace)).files, manifest };
}

async function buildHidden(opts: PrepareOptions): Promise<Manifest> {
  const { task } = opts;
  const dataKey = opts.dataKey ?? opts.runId;
  const final = hiddenDir(opts.runId);
  await fs.mkdir(hiddenRoot(), { recursive: true, mode: 0o700 });
  const tmp = `${final}.tmp-${randomBytes(6).toString('hex')}`;
  await fs.mkdir(tmp, { recursive: true });
  try {
    if (task.spec.harness === 'predictions') await runPrepare(task, tmp, await dataSecret(dataKey), opts.backend, opts.exec);
    else {
      await fs.cp(path.join(task.folder, 'mlrc-data', 'dev'), path.join(tmp, 'public', 'data'), { recursive: true });
      await fs.cp(path.join(task.folder, 'mlrc-data', 'test'), path.join(tmp, 'hidden', 'data'), { recursive: true });
    }
    const starter = path.join(task.folder, 'starter');
    await fs.cp(path.join(starter, 'methods'), path.join(tmp, 'starter-methods'), { recursive: true, filter: (src) => !SKIP.includes(path.basename(src)) });
    const protectedFiles: Record<string, string> = {};
    for (const rel of (await listTree(starter, SKIP)).files) {
      if (!rel.startsWith('methods/')) protectedFiles[rel] = sha256(await fs.readFile(path.join(starter, rel)));
    }
    if (task.spec.harness === 'predictions') protectedFiles['evaluate.py'] = sha256(await fs.readFile(path.join(task.folder, 'evaluate.py')));
    const manifest: Manifest = {
      task: task.name,
      harness: task.spec.harness,
      protected: protectedFiles,
      ...(task.spec.harness === 'predictions' ? { dataKey } : {}),
      preparedAt: new Date().toISOString(),
    };
    await fs.writeFile(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await fs.rename(tmp, final);
    } catch (err) {
      // Another attempt finished first: the data are the same (prepare.py is deterministic given the secret), keep theirs.
      if (!(await exists(path.join(final, 'manifest.json')))) throw err;
      await fs.rm(tmp, { recursive: true, force: true });
      return (await readManifest(opts.runId))!;
    }
    return manifest;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Runs prepare.py alone in a folder of its own (inside the hidden folder, never a workspace), with
 * the data secret in a file there, then moves what it wrote into the hidden folder.
 */
async function runPrepare(task: CompetitionTask, tmp: string, secret: string, backend: SandboxBackend, exec?: ExecOptions): Promise<void> {
  const prep = path.join(tmp, 'prep');
  await fs.mkdir(prep);
  await fs.copyFile(path.join(task.folder, 'prepare.py'), path.join(prep, 'prepare.py'));
  // The shared command line (OUT, --secret-file) every prepare.py imports.
  await fs.copyFile(PREPARE_HELPER, path.join(prep, 'lab_secret.py'));
  await fs.writeFile(path.join(prep, 'secret.key'), `${secret}\n`, { mode: 0o600 });
  // Trusted code: it may read the bundled data sets that untrusted runs never see.
  const run = await runInSandbox(backend, prep, 'python prepare.py out --secret-file secret.key', PREPARE_LIMITS, exec, { trusted: true });
  if (!run.ok) throw new Error(`competition "${task.name}": ${failureReason(run, 'prepare.py')}`);
  for (const rel of PREPARED_FILES) {
    const file = path.join(prep, 'out', rel);
    const stat = await fs.lstat(file).catch(() => undefined);
    if (!stat?.isFile()) throw new CompetitionError(`competition "${task.name}": prepare.py wrote no ${rel}`);
    const header = parseTable((await fs.readFile(file, 'utf8')).split('\n', 1)[0]!, rel).header;
    if (header[0] !== 'id' || !header.includes('target')) throw new CompetitionError(`competition "${task.name}": ${rel} must start with an id column and have a target column`);
  }
  await fs.rename(path.join(prep, 'out', 'public'), path.join(tmp, 'public'));
  await fs.rename(path.join(prep, 'out', 'hidden'), path.join(tmp, 'hidden'));
  await fs.rm(prep, { recursive: true, force: true });
}
