/**
 * What steers the experiment agent toward write → run → fix → results: which result files its
 * commands have written so far, and whether `finish` is accepted yet. Pure (the workflow uses it
 * to refuse an early finish; the agent's prompt shows the same list).
 */
import type { Observation } from './environment.js';

/** Result data the collector reads as measured: a table or JSON under results/. */
export const RESULT_DATA = /^results\/.+\.(csv|tsv|json)$/i;

/** How many times a finish with no result file is refused before the loop accepts it (and the run reports no results). */
export const MAX_FINISH_REFUSALS = 2;

/**
 * The result files after one more observation. Only a command's changes count: a file the agent
 * wrote with write_file is not a measurement.
 */
export function resultFilesAfter(previous: readonly string[], observation: Observation): string[] {
  if (observation.action !== 'run') return [...previous];
  const files = new Set(previous);
  for (const change of observation.filesChanged) {
    if (!RESULT_DATA.test(change.path)) continue;
    if (change.change === 'deleted' || change.bytes === 0) files.delete(change.path);
    else files.add(change.path);
  }
  return [...files].sort();
}

/** The result files written by the commands of these observations, in order. */
export function resultFilesOf(observations: readonly Observation[]): string[] {
  return observations.reduce<string[]>((files, o) => resultFilesAfter(files, o), []);
}

/**
 * Why a `finish` is refused, or undefined when it is accepted: a research experiment ends with
 * results a command wrote, unless no step is left or it was refused often enough already.
 */
export function finishRefusal(o: { resultFiles: readonly string[]; refusals: number; stepsLeft: number }): string | undefined {
  if (o.resultFiles.length || o.refusals >= MAX_FINISH_REFUSALS || o.stepsLeft <= 0) return undefined;
  return (
    'finish refused: no command has written a result file under results/ yet (a CSV or JSON table that your code ' +
    'writes when it runs). Write or fix the script so it writes results/metrics.csv, run it, then finish.'
  );
}
