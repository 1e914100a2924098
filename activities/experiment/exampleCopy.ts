/**
 * Whether a script is the example from the experiment brief with hardly a change. A small model
 * given a working example tends to submit it as it stands: its results are real, but they measure
 * the example's models on the example's data, not what the proposal describes, and the results say so.
 */
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

/** The scripts the commands ran (the content last written before each run that names them) that are copies of the example. */
export function examplesRun(records: readonly StepRecord[]): Array<{ path: string; copy: ExampleCopy }> {
  const found = new Map<string, ExampleCopy>();
  const written = new Map<string, string>();
  for (const r of records) {
    if (r.action.action === 'write_file' && /\.py$/i.test(r.action.path)) written.set(r.action.path, r.action.content);
    if (r.action.action !== 'run') continue;
    for (const [file, content] of written) {
      if (!r.action.command.includes(file)) continue;
      const copy = exampleCopy(content);
      if (copy) found.set(file, copy);
      else found.delete(file);
    }
  }
  return [...found].map(([file, copy]) => ({ path: file, copy }));
}
