/**
 * Competition task sets for `lab compete` and `lab bench --competition`: names, globs or `all`
 * over the competitions the catalog finds, each with its task text for the benchmark to store.
 */
import picomatch from 'picomatch';
import { listCompetitions, loadCompetition } from '../competition/catalog.js';
import { TaskError } from '../tasks.js';

export interface SelectedCompetition {
  name: string;
  /** task.md: what the agent reads. */
  content: string;
}

export interface CompetitionListing {
  name: string;
  title: string;
  metric: string;
  direction: 'higher' | 'lower';
  baseline?: number;
  reference?: number;
}

/** A comma-separated union of competition names, globs (`*-regression`) or `all`; an item matching nothing is an error. */
export async function selectCompetitions(spec: string): Promise<SelectedCompetition[]> {
  const names = (await listCompetitions()).filter((c) => !c.error).map((c) => c.name);
  const chosen = new Set<string>();
  for (const item of spec.split(',').map((s) => s.trim())) {
    if (!item) throw new TaskError(`empty item in the competition list "${spec}"`);
    const isMatch = picomatch(item);
    const matches = item === 'all' ? names : names.filter((n) => isMatch(n));
    if (!matches.length) throw new TaskError(`no competition matches '${item}' (see lab compete --list)`);
    matches.forEach((n) => chosen.add(n));
  }
  const selected: SelectedCompetition[] = [];
  for (const name of [...chosen].sort()) selected.push({ name, content: (await loadCompetition(name)).taskText });
  return selected;
}

/** The competitions found, usable ones only (a broken folder is named by `lab compete --list --json`'s `error`). */
export async function listCompetitionTasks(): Promise<CompetitionListing[]> {
  return (await listCompetitions())
    .filter((c) => !c.error && c.metric)
    .map((c) => ({ name: c.name, title: c.title ?? c.name, metric: c.metric!.name, direction: c.metric!.direction, baseline: c.baseline, reference: c.reference }));
}
