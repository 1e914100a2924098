/**
 * The experiment loop's steering, pure: which result files commands wrote, when a finish is
 * refused, the hint that closes each prompt, and the digest of long inputs for a small model.
 */
import { describe, expect, it } from 'vitest';
import type { EnvAction, Observation } from '../common/environment.js';
import { finishRefusal, MAX_FINISH_REFUSALS, resultFilesOf } from '../common/experimentSteering.js';
import { digest } from '../activities/experiment/digest.js';
import { exampleCopy, examplesRun } from '../activities/experiment/exampleCopy.js';
import { SCRIPT_SHAPE } from '../activities/experiment/prompts.js';
import { errorTail, nextStepHint, proseForCode, scriptToFix, withoutCodeFence } from '../activities/experiment/nextStep.js';
import type { StepRecord } from '../activities/experiment/transcript.js';

const run = (filesChanged: Observation['filesChanged'], exitCode = 0, text = ''): Observation => ({ action: 'run', ok: exitCode === 0, exitCode, text, filesChanged });
const wrote = (path: string): Observation => ({ action: 'write_file', ok: true, text: `wrote ${path}`, filesChanged: [{ path, change: 'added', bytes: 10 }] });
const record = (step: number, action: EnvAction, observation: Observation): StepRecord => ({ step, action, observation });
const writeMain = (step: number) => record(step, { action: 'write_file', path: 'main.py', content: 'print(1)' }, wrote('main.py'));
const runMain = (step: number, o: Observation) => record(step, { action: 'run', command: 'python main.py' }, o);

const FAILED_RUN_TEXT = [
  '$ python main.py',
  'exit code 1 after 0.4 s',
  'stdout: (empty)',
  'stderr (120 bytes):',
  'Traceback (most recent call last):',
  '  File "main.py", line 3, in <module>',
  "NameError: name 'np' is not defined",
  'files changed: none',
].join('\n');

describe('result files', () => {
  it('counts only tables and JSON that commands wrote under results/, and forgets deleted ones', () => {
    const files = resultFilesOf([
      wrote('results/typed.csv'),
      run([
        { path: 'results/metrics.csv', change: 'added', bytes: 40 },
        { path: 'results/plot.png', change: 'added', bytes: 900 },
        { path: 'results/summary.json', change: 'added', bytes: 20 },
        { path: 'notes.csv', change: 'added', bytes: 20 },
      ]),
      run([{ path: 'results/summary.json', change: 'deleted', bytes: 0 }]),
    ]);
    expect(files).toEqual(['results/metrics.csv']);
  });

  it('an empty file is no result', () => {
    expect(resultFilesOf([run([{ path: 'results/metrics.csv', change: 'added', bytes: 0 }])])).toEqual([]);
  });
});

describe('finish', () => {
  it('is refused while no result exists and steps are left, at most twice', () => {
    expect(finishRefusal({ resultFiles: [], refusals: 0, stepsLeft: 3 })).toMatch(/^finish refused: no command has written a result file/);
    expect(finishRefusal({ resultFiles: [], refusals: MAX_FINISH_REFUSALS - 1, stepsLeft: 3 })).toBeDefined();
    expect(finishRefusal({ resultFiles: [], refusals: MAX_FINISH_REFUSALS, stepsLeft: 3 })).toBeUndefined();
    expect(finishRefusal({ resultFiles: [], refusals: 0, stepsLeft: 0 })).toBeUndefined();
    expect(finishRefusal({ resultFiles: ['results/metrics.csv'], refusals: 0, stepsLeft: 3 })).toBeUndefined();
  });
});

describe('the next move', () => {
  it('write, then run, then fix with the error shown, then results, then finish', () => {
    expect(nextStepHint([], 'research')).toMatch(/^Start by writing the whole experiment as one script/);
    expect(nextStepHint([writeMain(1)], 'research')).toMatch(/^You wrote main\.py and have not run it since: run it now/);
    const failed = [writeMain(1), runMain(2, run([], 1, FAILED_RUN_TEXT))];
    const hint = nextStepHint(failed, 'research')!;
    expect(hint).toMatch(/^The last command failed with exit code 1\./);
    expect(hint).toContain("NameError: name 'np' is not defined");
    expect(hint).not.toContain('files changed');
    expect(nextStepHint([...failed, writeMain(3)], 'research')).toMatch(/^You wrote main\.py and have not run it since/);
    expect(nextStepHint([writeMain(1), runMain(2, run([]))], 'research')).toMatch(/no command has written a result file under results\/ yet/);
    const done = [writeMain(1), runMain(2, run([{ path: 'results/metrics.csv', change: 'added', bytes: 40 }]))];
    expect(nextStepHint(done, 'research')).toMatch(/^Result files written by your commands: results\/metrics\.csv\. If they hold/);
  });

  it('a competition gets only the failure of its last command', () => {
    expect(nextStepHint([], 'competition')).toBeUndefined();
    expect(nextStepHint([runMain(1, run([], 1, FAILED_RUN_TEXT))], 'competition')).toContain('NameError');
  });

  it('shows the script that failed as it was written, until it is written again', () => {
    const failed = [writeMain(1), runMain(2, run([], 1, FAILED_RUN_TEXT))];
    expect(scriptToFix(failed)).toEqual({ path: 'main.py', content: 'print(1)' });
    expect(scriptToFix([...failed, writeMain(3)])).toBeUndefined();
    expect(scriptToFix([writeMain(1), runMain(2, run([]))])).toBeUndefined();
    expect(scriptToFix([writeMain(1), record(2, { action: 'run', command: 'python other.py' }, run([], 1, FAILED_RUN_TEXT))])).toBeUndefined();
  });

  it('the error tail is the end of stderr, without the list of changed files', () => {
    expect(errorTail(FAILED_RUN_TEXT, 2)).toBe(`  File "main.py", line 3, in <module>\nNameError: name 'np' is not defined`);
    expect(errorTail('$ true\nexit code 0 after 0.1 s\nstdout: (empty)\nstderr: (empty)\nfiles changed: none')).toBe('');
  });
});

describe('the example script run as it stands', () => {
  const example = SCRIPT_SHAPE.replace(/'/g, '"');
  const adapted = SCRIPT_SHAPE.replace("load_breast_cancer", "load_digits")
    .replace("('proposed', RandomForestClassifier(random_state=0))", "('proposed', CalibratedClassifierCV(LogisticRegression(max_iter=1000)))")
    .replace('from sklearn.metrics import accuracy_score', 'from sklearn.metrics import accuracy_score, brier_score_loss\nfrom sklearn.calibration import CalibratedClassifierCV')
    .replace("rows.append({'method': name, 'accuracy': accuracy_score(y_test, model.predict(X_test))})", "p = model.predict_proba(X_test)\n    rows.append({'method': name, 'accuracy': accuracy_score(y_test, model.predict(X_test)), 'confidence': p.max(axis=1).mean()})\n    print(name, rows[-1])");

  it('is recognised whatever its quotes, comments and spacing; an adapted script is not', () => {
    expect(exampleCopy(example)).toMatchObject({ own: 0 });
    expect(exampleCopy(`# my experiment\n${example.replace(/\n/g, '\n\n')}\nprint('done')`)).toMatchObject({ own: 1 });
    expect(exampleCopy(adapted)).toBeUndefined();
    expect(exampleCopy('import os\nprint(1)')).toBeUndefined();
  });

  it('is named in the hint after it ran, and only the script a command ran counts', () => {
    const write = (step: number, content: string) => record(step, { action: 'write_file', path: 'main.py', content }, wrote('main.py'));
    const ran = (step: number) => runMain(step, run([{ path: 'results/metrics.csv', change: 'added', bytes: 40 }]));
    expect(examplesRun([write(1, example), ran(2)])).toEqual([{ path: 'main.py', copy: expect.objectContaining({ own: 0 }) }]);
    expect(nextStepHint([write(1, example), ran(2)], 'research')).toMatch(/But main\.py is still the example from the instructions/);
    expect(examplesRun([write(1, example), ran(2), write(3, adapted), ran(4)])).toEqual([]);
    expect(nextStepHint([write(1, example), ran(2), write(3, adapted), ran(4)], 'research')).toMatch(/^Result files written by your commands: results\/metrics\.csv\. If they hold/);
    expect(examplesRun([write(1, example)])).toEqual([]);
    // The results are the example's until a script of the agent's own writes them again: a later failed run changes nothing.
    const prose = 'The next action is to write the next script.';
    expect(examplesRun([write(1, example), ran(2), write(3, prose), runMain(4, run([], 1, FAILED_RUN_TEXT))])).toEqual([{ path: 'main.py', copy: expect.objectContaining({ own: 0 }) }]);
  });
});

describe('code fences', () => {
  it('a script written inside a markdown fence is written without it, and the thought says so', () => {
    const fenced = withoutCodeFence({ thought: 'Write it.', action: { action: 'write_file', path: 'main.py', content: "```python\nprint('hi')\n```\n" } });
    expect(fenced.action).toEqual({ action: 'write_file', path: 'main.py', content: "print('hi')\n" });
    expect(fenced.thought).toBe('Write it.\n[Durable Lab removed the markdown code fence around main.py.]');
    // A reply cut before its closing fence keeps everything after the opening one.
    const cut = withoutCodeFence({ thought: '', action: { action: 'write_file', path: 'main.py', content: '```\nimport os\nx = [(' } });
    expect(cut.action).toMatchObject({ content: 'import os\nx = [(\n' });
  });

  it('leaves other files and unfenced code alone', () => {
    const notes = { thought: 't', action: { action: 'write_file' as const, path: 'notes.md', content: '```python\nx\n```' } };
    expect(withoutCodeFence(notes)).toBe(notes);
    const plain = { thought: 't', action: { action: 'write_file' as const, path: 'main.py', content: 'print(1)  # ```' } };
    expect(withoutCodeFence(plain)).toBe(plain);
  });
});

describe('prose where code belongs', () => {
  const write = (content: string, path = 'main.py') => ({ action: 'write_file' as const, path, content });
  it('names a Python file whose content is sentences or nothing', () => {
    expect(proseForCode(write('The whole file as one JSON string, every line of it'))).toBe('The content you gave for main.py is not Python code ("The whole file as one JSON string, every line of it").');
    expect(proseForCode(write('write your corrected file here\n\n# todo'))).toMatch(/not Python code/);
    expect(proseForCode(write('  '))).toBe('The content you gave for main.py is not Python code (it is empty).');
  });
  it('lets any program through, and other files', () => {
    expect(proseForCode(write('print(1)'))).toBeUndefined();
    expect(proseForCode(write('import os'))).toBeUndefined();
    expect(proseForCode(write('x = 3'))).toBeUndefined();
    expect(proseForCode(write('Some notes.', 'notes.md'))).toBeUndefined();
    expect(proseForCode({ action: 'run', command: 'python main.py' })).toBeUndefined();
  });
});

describe('digest', () => {
  const proposal = [
    '> Written by model `x` (spec `y`) for the proposal stage of run `r`.',
    '',
    '# A Title',
    '## Introduction',
    'Background sentence one. '.repeat(40),
    '## Methodology',
    'We train a logistic regression baseline. '.repeat(40),
    '## Expected Outcomes & Impact',
    'Better calibration. '.repeat(40),
  ].join('\n');

  it('keeps every heading and each section opening within the limit, without the provenance line', () => {
    const d = digest(proposal, 900);
    expect(d.length).toBeLessThanOrEqual(900 + 40);
    for (const h of ['# A Title', '## Introduction', '## Methodology', '## Expected Outcomes & Impact']) expect(d).toContain(h);
    expect(d).toContain('We train a logistic regression baseline.');
    expect(d).not.toContain('Written by model');
    expect(d).toMatch(/…\(shortened to 900 characters\)$/);
  });

  it('leaves a short text as it is', () => {
    expect(digest('# T\nshort', 900)).toBe('# T\nshort');
  });
});
