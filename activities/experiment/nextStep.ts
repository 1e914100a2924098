/**
 * The hint that closes each step's prompt: what the write → run → fix → results loop needs next,
 * read from the steps so far. A 1.5B model given only the rules ran scripts before writing them,
 * emptied them, and finished without running anything; told the next move, it follows it.
 */
import { resultFilesOf } from '../../common/experimentSteering.js';
import type { EnvAction } from '../../common/environment.js';
import { examplesRun } from './exampleCopy.js';
import type { StepRecord } from './transcript.js';

/** Lines of a failed command's stderr shown again in the hint. */
const ERROR_LINES = 8;

export function nextStepHint(records: readonly StepRecord[], brief: 'research' | 'competition'): string | undefined {
  const lastRun = findLast(records, (r) => r.action.action === 'run');
  const lastScript = findLast(records, (r) => r.action.action === 'write_file' && /\.py$/i.test(r.action.path));
  const runFailed = lastRun && !lastRun.observation.ok;
  const failure = runFailed ? failureLines(lastRun) : '';
  if (brief === 'competition') {
    return runFailed && (!lastScript || lastScript.step < lastRun.step) ? failure : undefined;
  }
  const resultFiles = resultFilesOf(records.map((r) => r.observation));
  if (!lastScript && !lastRun) {
    return (
      'Start by writing the whole experiment as one script with write_file `main.py`, adapted from the example above to this ' +
      'task (the proposal\'s data, method and metric: the example unchanged does not test the proposal): it loads or generates the data, ' +
      'trains the baseline and the proposed method, creates the folder results/ (os.makedirs(\'results\', exist_ok=True)), ' +
      'writes results/metrics.csv with one row per method, and prints the same table.'
    );
  }
  if (lastScript?.action.action === 'write_file' && (!lastRun || lastScript.step > lastRun.step)) {
    const script = lastScript.action.path;
    return `You wrote ${script} and have not run it since: run it now, e.g. {"action":"run","command":"python ${script}"}.`;
  }
  if (runFailed) return failure;
  if (!resultFiles.length) {
    return 'The last command ran, but no command has written a result file under results/ yet. Change the script so it writes results/metrics.csv (write the whole file again), then run it.';
  }
  const example = examplesRun(records).at(-1);
  if (example) {
    return (
      `Result files written by your commands: ${resultFiles.join(', ')}. But ${example.path} is still the example from the ` +
      'instructions with hardly a change, so they measure the example\'s models, not the proposal. Change the script to the ' +
      'proposal\'s data, method and metric (write the whole file), then run it; or finish, and the results will say they are the example\'s.'
    );
  }
  return (
    `Result files written by your commands: ${resultFiles.join(', ')}. If they hold the baseline's and the proposed ` +
    'method\'s results, finish and say which file holds what (no numbers that are not in them); otherwise improve the script and run it again.'
  );
}

/** The hint after a failed command: its exit, the last lines of its error, and the fix → run step. */
function failureLines(run: StepRecord): string {
  const o = run.observation;
  const how = o.killedBy ? `was stopped (${o.killedBy} limit)` : `failed with exit code ${o.exitCode}`;
  const error = errorTail(o.text);
  return (
    `The last command ${how}.` +
    (error ? ` The end of its error output:\n\`\`\`\n${error}\n\`\`\`\n` : ' ') +
    'Fix the cause: reply with write_file of the script again, its content the complete corrected program (every line of ' +
    'Python, not a description of the change), then run it again.'
  );
}

/** Characters of the script shown again for a fix. */
const SCRIPT_CHARS = 6000;

/**
 * The script to fix, as the agent last wrote it, when its last command failed and it has not
 * written the script since: the condensed history shows only "write_file main.py (1866 chars)",
 * and a model cannot fix code it cannot see.
 */
export function scriptToFix(records: readonly StepRecord[]): { path: string; content: string } | undefined {
  const lastRun = findLast(records, (r) => r.action.action === 'run');
  if (!lastRun || lastRun.observation.ok) return undefined;
  if (records.some((r) => r.step > lastRun.step && r.action.action === 'write_file')) return undefined;
  const command = lastRun.action.action === 'run' ? lastRun.action.command : '';
  const script = findLast(records, (r) => r.action.action === 'write_file' && /\.py$/i.test(r.action.path) && r.step < lastRun.step && command.includes(r.action.path));
  if (!script || script.action.action !== 'write_file') return undefined;
  const { path, content } = script.action;
  return { path, content: content.length > SCRIPT_CHARS ? `${content.slice(0, SCRIPT_CHARS)}\n# …(cut at ${SCRIPT_CHARS} characters)` : content };
}

/** The last lines of the stderr section of a run's observation text (see the environment's runText). */
export function errorTail(text: string, lines = ERROR_LINES): string {
  const start = text.search(/^stderr \(/m);
  if (start < 0) return '';
  const body = text.slice(start).split('\n').slice(1);
  const end = body.findIndex((l) => /^(files changed|note:)/.test(l));
  const stderr = (end < 0 ? body : body.slice(0, end)).filter((l) => l.trim());
  return stderr.slice(-lines).join('\n');
}

function findLast(records: readonly StepRecord[], test: (r: StepRecord) => boolean): StepRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (test(records[i])) return records[i];
  return undefined;
}

/**
 * A code file written with the markdown fence a model puts around code in chat ("```python" on
 * the first line) cannot run; the fence is removed and the step's thought says so.
 */
export function withoutCodeFence(decision: { thought: string; action: EnvAction }): { thought: string; action: EnvAction } {
  const { action } = decision;
  if (action.action !== 'write_file' || !CODE_FILE.test(action.path)) return decision;
  const lines = action.content.replace(/^\s*\n/, '').split('\n');
  if (!/^\s*```[\w+-]*\s*$/.test(lines[0] ?? '')) return decision;
  let body = lines.slice(1);
  const closing = body.findIndex((l) => /^\s*```\s*$/.test(l));
  if (closing >= 0) body = body.slice(0, closing);
  return {
    thought: `${decision.thought}\n[Durable Lab removed the markdown code fence around ${action.path}.]`,
    action: { ...action, content: `${body.join('\n').replace(/\s+$/, '')}\n` },
  };
}

const CODE_FILE = /\.(py|sh|r|jl)$/i;

/** A line any Python program of use has: an import, a call, an assignment, a block. */
const PYTHON_LINE = /^\s*(import |from \S+ import |def |class |if |for |while |with |try:|return\b)|[=()[\]]/;

/**
 * Why a Python file's content is not a program (empty, or sentences with no line of code), or
 * undefined when it looks like one. A 1.5B model wrote "The whole file as one JSON string, every
 * line of it" and "write your corrected file here", copying the instructions, and ran them.
 */
export function proseForCode(action: EnvAction): string | undefined {
  if (action.action !== 'write_file' || !/\.py$/i.test(action.path)) return undefined;
  const lines = action.content.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  if (lines.some((l) => PYTHON_LINE.test(l))) return undefined;
  const shown = action.content.trim().slice(0, 100);
  return `The content you gave for ${action.path} is not Python code${shown ? ` ("${shown}")` : ' (it is empty)'}.`;
}
