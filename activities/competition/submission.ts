/**
 * Scoring a methods/ folder that a person wrote (a human baseline, a reference, a suspicious
 * submission, an audit's cheat) through the same preparation, sandbox, harness restore and scorer
 * as an agent's run, with no agent and no Temporal server. The run is a scratch run: a fresh run id
 * whose workspace, hidden data and scoring folders live in one temporary folder, removed when the
 * last scratch run closes (`removeScratchNow` for a Ctrl-C handler).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScoreSplit, SubmissionScore } from '../../common/competition.js';
import type { ExecOptions, SandboxBackend } from '../sandbox/index.js';
import type { CompetitionTask } from './catalog.js';
import { listTree, readRegularFile } from './files.js';
import { hiddenDir } from './paths.js';
import { assessSubmission } from './assess.js';
import { prepareRun } from './prepare.js';
import { scoreRun, type RawScore } from './score.js';

/** A methods folder that cannot be scored (missing, not a folder, no __init__.py): bad input, not a failed submission. */
export class MethodsFolderError extends Error {
  override name = 'MethodsFolderError';
}

/** What one scoring of a methods folder gives: the scorer's raw outcome, and the score against reference.json when the task has one. */
export interface MethodsScore extends RawScore {
  /** Absent for a task not measured yet (no reference.json): `npm run competitions:measure` scores such tasks. */
  submission?: SubmissionScore;
}

export interface ScoreMethodsOptions {
  split?: ScoreSplit;
  mode?: 'full' | 'validate';
  /**
   * Default true: also set the score against the baseline and reference measured on the same data
   * draw (two more scoring runs on first use). `npm run competitions:measure` wants raw scores only.
   */
  againstGap?: boolean;
}

/** Regular files of a methods folder (links never followed, `__pycache__` left out), or a MethodsFolderError saying why it is unusable. */
export async function checkMethodsFolder(dir: string): Promise<{ files: string[]; other: string[] }> {
  const stat = await fs.lstat(dir).catch(() => undefined);
  if (!stat) throw new MethodsFolderError(`methods folder not found: ${dir}`);
  if (stat.isSymbolicLink()) throw new MethodsFolderError(`${dir} is a symbolic link: give the folder itself`);
  if (!stat.isDirectory()) throw new MethodsFolderError(`${dir} is not a folder`);
  const listing = await listTree(dir, ['__pycache__']);
  if (!listing.files.includes('__init__.py')) {
    throw new MethodsFolderError(`${dir} has no __init__.py: a methods folder is a Python package whose __init__.py exports build() (see a task's starter/methods/)`);
  }
  return listing;
}

// The scorer's folders come from process-wide settings (paths.ts, workspace.ts): scratch runs of
// one process share one temporary root, made by the first and removed by the last.
const SCRATCH_ENV = ['LAB_WORKSPACE_DIR', 'LAB_COMPETITION_HIDDEN_DIR', 'LAB_COMPETITION_SCORING_DIR'] as const;
let scratch: { root: string; users: number; saved: Partial<Record<(typeof SCRATCH_ENV)[number], string>> } | undefined;

function acquireScratch(): string {
  if (!scratch) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lab-scratch-'));
    const saved: Partial<Record<(typeof SCRATCH_ENV)[number], string>> = {};
    for (const k of SCRATCH_ENV) saved[k] = process.env[k];
    process.env.LAB_WORKSPACE_DIR = path.join(root, 'workspaces');
    process.env.LAB_COMPETITION_HIDDEN_DIR = path.join(root, 'hidden');
    process.env.LAB_COMPETITION_SCORING_DIR = path.join(root, 'scoring');
    scratch = { root, users: 0, saved };
  }
  scratch.users += 1;
  return scratch.root;
}

function releaseScratch(): void {
  if (!scratch) return;
  scratch.users -= 1;
  if (scratch.users <= 0) removeScratchNow();
}

/** The temporary folder of the open scratch runs (for files that must go with them), if any is open. */
export function scratchFolder(): string | undefined {
  return scratch?.root;
}

/** Removes the scratch folder at once, whoever still uses it (for an interrupt handler, just before exiting). */
export function removeScratchNow(): void {
  if (!scratch) return;
  const { root, saved } = scratch;
  scratch = undefined;
  for (const k of SCRATCH_ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  rmSync(root, { recursive: true, force: true });
}

export interface ScratchRun {
  runId: string;
  task: CompetitionTask;
  /** The run's workspace (its methods/ is replaced by each score call). */
  workspace: string;
  /** Replaces the workspace's methods/ by `methodsDir` (regular files only) and scores it. */
  score(methodsDir: string, options?: ScoreMethodsOptions): Promise<MethodsScore>;
  close(): Promise<void>;
}

/**
 * Prepares a scratch run of `task` (prepare.py once); score as many methods folders in it as needed,
 * one at a time, then close it. `copyOf`: a run of its own holding a copy of another open scratch
 * run's prepared data and workspace (the same data, scored beside it, without running prepare.py again).
 */
export async function openScratchRun(task: CompetitionTask, deps: { backend: SandboxBackend; exec?: ExecOptions; copyOf?: ScratchRun }): Promise<ScratchRun> {
  acquireScratch();
  const runId = `scratch-${task.name.slice(0, 60)}-${randomBytes(4).toString('hex')}`.replace(/[^A-Za-z0-9_-]/g, '-');
  const workspace = path.join(process.env.LAB_WORKSPACE_DIR!, runId);
  let closed = false;
  try {
    if (deps.copyOf) {
      if (deps.copyOf.task.name !== task.name) throw new Error(`cannot copy a scratch run of ${deps.copyOf.task.name} for ${task.name}`);
      await fs.cp(hiddenDir(deps.copyOf.runId), hiddenDir(runId), { recursive: true, verbatimSymlinks: true });
      await fs.cp(deps.copyOf.workspace, workspace, { recursive: true, verbatimSymlinks: true });
    } else await prepareRun({ runId, task, backend: deps.backend, exec: deps.exec });
  } catch (err) {
    await fs.rm(workspace, { recursive: true, force: true }).catch(() => undefined);
    await fs.rm(hiddenDir(runId), { recursive: true, force: true }).catch(() => undefined);
    releaseScratch();
    throw err;
  }
  return {
    runId,
    task,
    workspace,
    async score(methodsDir, options = {}) {
      if (closed) throw new Error(`scratch run ${runId} is closed`);
      await placeMethods(methodsDir, path.join(workspace, 'methods'));
      return scoreIn(runId, task, deps, options);
    },
    async close() {
      if (closed) return;
      closed = true;
      await fs.rm(workspace, { recursive: true, force: true }).catch(() => undefined);
      await fs.rm(hiddenDir(runId), { recursive: true, force: true }).catch(() => undefined);
      releaseScratch();
    },
  };
}

/** One methods folder, one scoring run: prepare, replace methods/, score, clean up. */
export async function scoreMethodsFolder(opts: { task: CompetitionTask; methodsDir: string; backend: SandboxBackend; exec?: ExecOptions } & ScoreMethodsOptions): Promise<MethodsScore> {
  await checkMethodsFolder(opts.methodsDir);
  const run = await openScratchRun(opts.task, opts);
  try {
    return await run.score(opts.methodsDir, opts);
  } finally {
    await run.close();
  }
}

async function scoreIn(runId: string, task: CompetitionTask, deps: { backend: SandboxBackend; exec?: ExecOptions }, options: ScoreMethodsOptions): Promise<MethodsScore> {
  const split = options.split ?? 'test';
  const mode = options.mode ?? 'full';
  if (options.againstGap === false) return scoreRun({ runId, task, split, mode, backend: deps.backend, exec: deps.exec });
  const { raw, score } = await assessSubmission({ runId, task, split, mode, backend: deps.backend, exec: deps.exec });
  return score ? { ...raw, submission: score } : raw;
}

/** The workspace's methods/ becomes a copy of `source`'s regular files; links and special files are not followed or copied. */
async function placeMethods(source: string, dest: string): Promise<void> {
  const { files } = await checkMethodsFolder(source);
  await fs.rm(dest, { recursive: true, force: true });
  await fs.mkdir(dest, { recursive: true });
  for (const rel of files) {
    if (rel.endsWith('.pyc')) continue;
    const target = path.join(dest, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // readRegularFile opens with O_NOFOLLOW: a file swapped for a link meanwhile is refused, not followed.
    await fs.writeFile(target, await readRegularFile(path.join(source, rel), 64 * 2 ** 20));
  }
}
