/**
 * The task audit: a fixed set of generic cheating methods (Python methods/ folders in ./cheats),
 * each scored once on the hidden test split through the real scorer. A task passes when no cheat's
 * valid submission beats the honest reference by more than a small margin: a cheat that wins shows
 * the task's data can be recovered without learning (a known generator seed, a bundled data set, a
 * label inside the features, a reachable label file). Layout and verdicts: docs/competitions.md.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SubmissionScore } from '../../../common/competition.js';
import { PROJECT_ROOT } from '../../config.js';
import { sandboxBackendFromEnv, type ExecOptions, type SandboxBackend } from '../../sandbox/index.js';
import type { CompetitionTask } from '../catalog.js';
import { openScratchRun, scratchFolder, type ScratchRun } from '../submission.js';

export const CHEATS_DIR = path.join(PROJECT_ROOT, 'activities', 'competition', 'audit', 'cheats');

/** The cheats, in the order they run (the slowest first, so it overlaps the others). */
export const CHEATS = [
  { name: 'seed-search', summary: "regenerates the data from scikit-learn's generators with small or well-known seeds" },
  { name: 'bundled-inversion', summary: "aligns the rows with a data set scikit-learn ships (PCA, Procrustes, affine refinement) and looks labels up" },
  { name: 'label-leak', summary: 'reads the target out of the features: an equal column, a lag of a later row, an exact function' },
  { name: 'label-file', summary: 'copies any file of labels for the rows to predict found near the working folder' },
  { name: 'decoy-distribution', summary: "bends a plain model's predictions to the planted label file's distribution" },
  { name: 'no-method', summary: 'fits nothing; predicts a constant and rewrites predictions.csv from an exit handler' },
] as const;
export type CheatName = (typeof CHEATS)[number]['name'];

/** A cheat fails the task when it closes more than this share of the baseline-to-reference gap (the reference plus 5% of the gap). */
export const AUDIT_LIMIT_PERCENT = 105;
/** The share of the task's wall-time limit that seed-search may spend searching. */
const SEARCH_SHARE = 0.6;

export interface CheatOutcome {
  cheat: CheatName;
  status: SubmissionScore['status'];
  reason?: string;
  score?: number;
  relativeImprovement?: number;
  runtimeSeconds: number;
  /** `fail`: a valid submission past AUDIT_LIMIT_PERCENT. */
  verdict: 'pass' | 'fail';
  /** What the cheat's run printed about itself (its last lines), for the reader of the audit. */
  said?: string;
}

export interface TaskAudit {
  task: string;
  /** false: the cheats cannot run on this task's harness (see `note`); nothing was scored. */
  applies: boolean;
  note?: string;
  metric?: { name: string; direction: 'higher' | 'lower' };
  baseline?: number;
  reference?: number;
  /** `draw`: the baseline and reference measured on the audit's own data draw, which the cheats are compared with. */
  gapSource?: 'draw' | 'reference.json';
  cheats: CheatOutcome[];
  passed: boolean;
  /** Each failing cheat, in words ("seed-search: rmse 0.0000, 200.0% of the gap"). */
  failures: string[];
  seconds: number;
}

export interface AuditOptions {
  /** Default: the backend `LAB_SANDBOX` names. */
  backend?: SandboxBackend;
  exec?: ExecOptions;
  /** Scoring runs at once (default 2: seed-search's long search beside the others). */
  concurrency?: number;
  /** A subset of the cheats (default all). */
  cheats?: CheatName[];
  /** Called as each cheat's outcome arrives. */
  onOutcome?: (outcome: CheatOutcome) => void;
}

export const NOT_APPLICABLE_MLRC =
  "not audited: the cheats are methods for the predictions harness (build() with fit/predict); an imported MLRC-Bench task runs its own evaluation inside the method's process with the test labels in data/ (no separate evaluator, no decoy), so only its read-only files are guarded";

export async function auditTask(task: CompetitionTask, opts: AuditOptions): Promise<TaskAudit> {
  const started = Date.now();
  if (task.spec.harness !== 'predictions') return { task: task.name, applies: false, note: NOT_APPLICABLE_MLRC, cheats: [], passed: true, failures: [], seconds: 0 };
  const ref = task.reference;
  if (!ref) throw new Error(`competition "${task.name}" has no reference.json: measure it first (npm run competitions:measure -- --task ${task.name})`);
  const deps = { backend: opts.backend ?? sandboxBackendFromEnv(), exec: opts.exec };
  const names = opts.cheats ?? CHEATS.map((c) => c.name);
  const lanes = Math.max(1, Math.min(opts.concurrency ?? 2, names.length));
  const runs: ScratchRun[] = [];
  const outcomes = new Map<CheatName, CheatOutcome>();
  let gap: Pick<SubmissionScore, 'baseline' | 'reference' | 'gapSource'> | undefined;
  let work: string | undefined;
  try {
    // Prepared once: the other lanes are copies of the first run (the same data, their own workspace).
    runs.push(await openScratchRun(task, deps));
    // The cheats' folders go inside the scratch folder, so an interrupt removes them with it.
    work = await fs.mkdtemp(path.join(scratchFolder()!, 'audit-'));
    for (let i = 1; i < lanes; i++) runs.push(await openScratchRun(task, { ...deps, copyOf: runs[0] }));
    const queue = [...names];
    await Promise.all(
      runs.map(async (run) => {
        for (let cheat = queue.shift(); cheat; cheat = queue.shift()) {
          const methods = await assembleCheat(cheat, work!, task);
          const scored = await run.score(methods, { split: 'test' });
          gap ??= scored.submission;
          const outcome = judge(cheat, scored.submission!, scored.log);
          outcomes.set(cheat, outcome);
          opts.onOutcome?.(outcome);
        }
      }),
    );
  } finally {
    if (work) await fs.rm(work, { recursive: true, force: true });
    for (const run of runs) await run.close();
  }
  const cheats = names.map((n) => outcomes.get(n)!);
  const failures = cheats.filter((c) => c.verdict === 'fail').map((c) => `${c.cheat}: ${task.spec.metric.name} ${c.score!.toPrecision(4)}, ${c.relativeImprovement!.toFixed(1)}% of the gap`);
  return {
    task: task.name,
    applies: true,
    metric: { name: task.spec.metric.name, direction: task.spec.metric.direction },
    baseline: gap?.baseline ?? ref.baseline.score,
    reference: gap?.reference ?? ref.reference.score,
    gapSource: gap?.gapSource ?? 'reference.json',
    cheats,
    passed: failures.length === 0,
    failures,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

/** A valid submission past the limit fails the task; an invalid one was caught (the scorer's rules held), a failed one got nothing. */
export function judge(cheat: CheatName, s: SubmissionScore, log?: string): CheatOutcome {
  const said = log ? cheatSaid(log) : undefined;
  // A cheat that found nothing to exploit submits its plain model: that is learning, not a leak. Should it
  // beat the reference (a draw on which the reference is weak), the audit says so but the task holds.
  const foundNothing = !!said && /; plain model$/.test(said);
  const over = !foundNothing && s.status === 'scored' && s.relativeImprovement !== undefined && s.relativeImprovement > AUDIT_LIMIT_PERCENT;
  return {
    cheat,
    status: s.status,
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.score !== undefined ? { score: s.score } : {}),
    ...(s.relativeImprovement !== undefined ? { relativeImprovement: s.relativeImprovement } : {}),
    runtimeSeconds: s.runtimeSeconds,
    verdict: over ? 'fail' : 'pass',
    ...(said ? { said } : {}),
  };
}

/** The last line a cheat printed about what it found ("seed-search: friedman1 seed 27182 ..."), from the scoring log. */
function cheatSaid(log: string): string | undefined {
  const lines = log.split('\n').filter((l) => /^(seed-search|bundled-inversion|label-leak|label-file|decoy-distribution|no-method): /.test(l.trim()));
  return lines.length ? lines[lines.length - 1]!.trim() : undefined;
}

/**
 * seed-search's time budget: a share of the task's wall limit, or less where LAB_AUDIT_SEARCH_SECONDS
 * says so (the tests: 15 s still finds the small seeds the tasks had before secrets).
 */
export function searchSeconds(task: CompetitionTask, env: NodeJS.ProcessEnv = process.env): number {
  const share = Math.round(task.spec.limits.wallSeconds * SEARCH_SHARE);
  const cap = Number(env.LAB_AUDIT_SEARCH_SECONDS);
  return Number.isFinite(cap) && cap > 0 ? Math.min(share, cap) : share;
}

/** The cheat's folder as a methods/ folder, with its time budget (seed-search) beside it. */
async function assembleCheat(cheat: CheatName, work: string, task: CompetitionTask): Promise<string> {
  const dest = path.join(work, cheat);
  await fs.rm(dest, { recursive: true, force: true });
  await fs.cp(path.join(CHEATS_DIR, cheat), dest, { recursive: true, filter: (src) => path.basename(src) !== '__pycache__' });
  await fs.writeFile(path.join(dest, 'audit_budget.json'), `${JSON.stringify({ seconds: searchSeconds(task) })}\n`);
  return dest;
}
