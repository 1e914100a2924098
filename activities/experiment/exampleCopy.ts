/**
 * Whether a script is the example from the experiment brief with hardly a change. A small model
 * given a working example tends to submit it as it stands: its results are real, but they measure
 * the example's models on the example's data, not what the proposal describes, and the results say so.
 */
import { RESULT_DATA } from '../../common/experimentSteering.js';
import { SCRIPT_SHAPE } from './prompts.js';
import type { StepRecord } from './transcript.js';

export interface ExampleCopy {
  /** The example's lines that the script keeps as they are. */
  kept: number;
  of: number;
  /** Lines of the script that are not in the example. */
  own: number;
}

/** Code lines as compared: no blank lines or comments, whitespace and quote style ignored. */
function codeLines(code: string): string[] {
  return code
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').replace(/\s+/g, '').replace(/"/g, "'"))
    .filter(Boolean);
}

const EXAMPLE = codeLines(SCRIPT_SHAPE);

/** How much of the example the script keeps, or undefined when it is its own program (under 80% kept, or 4 lines or more of its own). */
export function exampleCopy(code: string): ExampleCopy | undefined {
  const lines = codeLines(code);
  const mine = new Set(lines);
  const example = new Set(EXAMPLE);
  const kept = EXAMPLE.filter((l) => mine.has(l)).length;
  const own = lines.filter((l) => !example.has(l)).length;
  return kept / EXAMPLE.length >= 0.8 && own < 4 ? { kept, of: EXAMPLE.length, own } : undefined;
}

/**
 * The scripts whose runs wrote the result files as they are at the end, when such a script was the
 * example as it stands: a later run of another script that wrote no result leaves the label on.
 */
export function examplesRun(records: readonly StepRecord[]): Array<{ path: string; copy: ExampleCopy }> {
  const written = new Map<string, string>();
  /** Each result file's last writer: the example script that ran, or undefined for a script of the agent's own. */
  const writer = new Map<string, { path: string; copy: ExampleCopy } | undefined>();
  for (const r of records) {
    if (r.action.action === 'write_file' && /\.py$/i.test(r.action.path)) written.set(r.action.path, r.action.content);
    if (r.action.action !== 'run') continue;
    const command = r.action.command;
    // The run counts as the example's only when every script it names is a copy of it.
    const ran = [...written].filter(([file]) => command.includes(file)).map(([file, content]) => ({ path: file, copy: exampleCopy(content) }));
    const example = ran.length && ran.every((s) => s.copy) ? { path: ran[0].path, copy: ran[0].copy! } : undefined;
    for (const change of r.observation.filesChanged) {
      if (!RESULT_DATA.test(change.path)) continue;
      if (change.change === 'deleted') writer.delete(change.path);
      else writer.set(change.path, example);
    }
  }
  const found = new Map<string, ExampleCopy>();
  for (const w of writer.values()) if (w) found.set(w.path, w.copy);
  return [...found].map(([file, copy]) => ({ path: file, copy }));
}
