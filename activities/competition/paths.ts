/** Where competition tasks are found, and the scorer's own folders (never inside a workspace). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isValidRunId, RUN_ID_RULE } from '../../common/runIds.js';
import { labHome, PROJECT_ROOT } from '../config.js';

/** The competitions shipped with the project. */
export const COMPETITIONS_DIR = path.join(PROJECT_ROOT, 'tasks', 'competitions');

/** Where `lab compete import` puts MLRC-Bench tasks by default (gitignored). */
export const IMPORTED_COMPETITIONS_DIR = path.join(PROJECT_ROOT, 'tasks', 'competitions-imported');

/** Folders searched for a competition by name: `LAB_COMPETITIONS_DIR` (path-separated) first, then the shipped ones, then imported ones. */
export function competitionSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.LAB_COMPETITIONS_DIR ?? '').split(path.delimiter).filter(Boolean).map((d) => path.resolve(d));
  return [...extra, COMPETITIONS_DIR, IMPORTED_COMPETITIONS_DIR];
}

/**
 * Scorer-only copies of each run's data, the hidden test split included. Outside the workspaces
 * (the sandbox binds only the workspace), so the agent's code cannot reach them.
 */
export function hiddenRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LAB_COMPETITION_HIDDEN_DIR ?? path.join(labHome(env), 'competition-hidden'));
}

export function hiddenDir(runId: string): string {
  if (!isValidRunId(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}: ${RUN_ID_RULE}`);
  return path.join(hiddenRoot(), runId);
}

/** Fresh folders, one per scoring run, removed when it ends. */
export function scoringRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LAB_COMPETITION_SCORING_DIR ?? path.join(labHome(env), 'competition-scoring'));
}

/**
 * Whether the run was set up for a competition (its manifest is in the hidden folder, out of the
 * agent's reach): then every command in its workspace runs with the bundled data sets hidden.
 */
export function isCompetitionRun(runId: string): boolean {
  return isValidRunId(runId) && existsSync(path.join(hiddenRoot(), runId, 'manifest.json'));
}
