/**
 * Task names, `lab tasks import`, task sets (`selectTasks`) and `lab tasks list`. The MLR-Bench
 * import needs the shared folder (CI); everything else runs on tasks these tests write.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { importTasks } from '../activities/taskImport.js';
import { describeTaskSet, selectTasks } from '../activities/taskSets.js';
import { MAX_TASK_BYTES, TaskError, taskTitle } from '../activities/tasks.js';
import { parseTaskName } from '../common/taskNames.js';
import { runLab } from './helpers/labProcesses.js';
import { SHARED_DIR } from './helpers/shared.js';
import { tempDir } from './helpers/temporal.js';

const MLRBENCH = path.join(SHARED_DIR, 'mlrbench-tasks');

/** Writes `files` (relative path → content) under a new temp folder. */
function taskTree(prefix: string, files: Record<string, string | Buffer>): string {
  const root = tempDir(prefix);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}

function lab(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runLab(args, { LAB_HOME: tempDir('home'), ...env });
}

describe('task titles', () => {
  it('skip generic section headings such as "About the Workshop" and "Overview"', () => {
    expect(taskTitle('## About the Workshop\nThe Workshop on Tiny Models gathers people.\n', 'x')).toBe('The Workshop on Tiny Models gathers people.');
    expect(taskTitle('# Overview\n\n## Workshop on Robust Agents\ntext', 'x')).toBe('Workshop on Robust Agents');
    expect(taskTitle('# Workshop on Data\n## Overview\n', 'x')).toBe('Workshop on Data');
  });
});

describe('task names', () => {
  it('reads venue and year from MLR-Bench names, and nothing from other names', () => {
    expect(parseTaskName('iclr2025_wmark')).toEqual({ venue: 'iclr', year: 2025, topic: 'wmark' });
    expect(parseTaskName('neurips2023_new_in_ml')).toEqual({ venue: 'neurips', year: 2023, topic: 'new_in_ml' });
    expect(parseTaskName('ICML2024_FM')).toEqual({ venue: 'icml', year: 2024, topic: 'FM' });
    for (const name of ['calibration-under-shift', 'iclr25_x', 'iclr2025', 'iclr2025_', '2025_x', 'iclr20251_x', 'iclr-2025_x']) {
      expect(parseTaskName(name)).toEqual({ topic: name });
    }
  });

  it('counts a set per year and venue, names without them as other', () => {
    const counts = describeTaskSet(['iclr2025_a', 'iclr2024_b', 'icml2024_c', 'plain'].map((name) => ({ name })));
    expect(counts.byYear).toEqual({ '2024': 2, '2025': 1, other: 1 });
    expect(counts.byVenue).toEqual({ iclr: 2, icml: 1, other: 1 });
    expect(counts.text).toBe('4 tasks; by year: 2024 2, 2025 1, other 1; by venue: iclr 2, icml 1, other 1');
    expect(describeTaskSet([{ name: 'plain' }]).text).toBe('1 task');
  });
});

describe.runIf(existsSync(MLRBENCH))('the MLR-Bench task set (shared folder)', () => {
  it('imports all 201 tasks, idempotently, skipping the notes beside them', async () => {
    const dest = tempDir('import');
    const first = await importTasks(MLRBENCH, dest);
    expect(first.refused).toEqual([]);
    expect(first.duplicates).toEqual([]);
    expect(first.imported).toHaveLength(201);
    expect(first.imported).toContain('iclr2025_wmark');
    expect(first.skipped.map((s) => path.basename(s.file)).sort()).toEqual(['LICENSE-NOTE.md', 'task_metadata.md']);
    expect(first.counts.byYear).toEqual({ '2023': 73, '2024': 91, '2025': 37 });
    expect(first.counts.byVenue).toEqual({ iclr: 68, icml: 42, neurips: 91 });
    const second = await importTasks(MLRBENCH, dest);
    expect(second.unchanged).toHaveLength(201);
    expect(second.imported).toHaveLength(0);
    expect(readdirSync(dest)).toHaveLength(201);

    process.env.LAB_TASKS_DIR = dest;
    try {
      expect(await selectTasks('year:2025')).toHaveLength(37);
      expect(await selectTasks('venue:icml+year:2023')).toHaveLength(18);
      expect((await selectTasks('*wmark*')).map((t) => t.name)).toContain('iclr2025_wmark');
    } finally {
      delete process.env.LAB_TASKS_DIR;
    }
  });
});

describe('lab tasks import', () => {
  it('takes task folders and flat <name>.md files, and writes both as <name>/task.md', async () => {
    const src = taskTree('src', { 'zzconf2025_alpha/task.md': '# Alpha\nbody', 'zzconf2024_beta.md': '# Beta\nbody', 'notes.txt': 'ignored', 'README.md': '# About this set' });
    const dest = tempDir('dest');
    const report = await importTasks(src, dest);
    expect(report.imported).toEqual(['zzconf2024_beta', 'zzconf2025_alpha']);
    expect(report.skipped).toEqual([expect.objectContaining({ file: path.join(src, 'README.md') })]);
    expect(readFileSync(path.join(dest, 'zzconf2024_beta', 'task.md'), 'utf8')).toBe('# Beta\nbody');
    expect(report.counts.byYear).toEqual({ '2024': 1, '2025': 1 });
    expect(readdirSync(dest).sort()).toEqual(['zzconf2024_beta', 'zzconf2025_alpha']);
  });

  it('imports a single task folder or .md file given directly', async () => {
    const src = taskTree('one', { 'solo/task.md': '# Solo\nbody', 'solo/notes.md': 'the task\'s own file, not a task', 'flat.md': '# Flat\nbody' });
    const dest = tempDir('dest');
    expect((await importTasks(path.join(src, 'solo'), dest)).imported).toEqual(['solo']);
    expect((await importTasks(path.join(src, 'flat.md'), dest)).imported).toEqual(['flat']);
    expect(readdirSync(dest).sort()).toEqual(['flat', 'solo']);
  });

  it('imports identical content once and reports the duplicate', async () => {
    const src = taskTree('dup', { 'a_first.md': '# Same\nbody', 'b_second/task.md': '# Same\nbody', 'c/task.md': '# C\nbody', 'c.md': '# C\nbody' });
    const dest = tempDir('dest');
    const report = await importTasks(src, dest);
    expect(report.imported).toEqual(['a_first', 'c']);
    expect(report.duplicates).toEqual([
      { name: 'b_second', file: path.join(src, 'b_second', 'task.md'), sameAs: 'a_first' },
      { name: 'c', file: path.join(src, 'c.md'), sameAs: 'c' },
    ]);
    expect(readdirSync(dest).sort()).toEqual(['a_first', 'c']);
    // Already imported under another name: still a duplicate on the next import.
    const again = await importTasks(taskTree('dup2', { 'renamed.md': '# Same\nbody' }), dest);
    expect(again.duplicates).toEqual([expect.objectContaining({ name: 'renamed', sameAs: 'a_first' })]);
  });

  it('refuses a name imported before with other content unless forced', async () => {
    const dest = tempDir('dest');
    await importTasks(taskTree('v1', { 'task_x.md': '# Version 1\n' }), dest);
    const v2 = taskTree('v2', { 'task_x.md': '# Version 2\n', 'task_y.md': '# Y\n' });
    const refused = await importTasks(v2, dest);
    expect(refused.imported).toEqual(['task_y']);
    expect(refused.refused).toEqual([{ name: 'task_x', reason: expect.stringMatching(/^task "task_x" is already imported with different content .*; pass --force to replace it$/) }]);
    expect(readFileSync(path.join(dest, 'task_x', 'task.md'), 'utf8')).toBe('# Version 1\n');
    const forced = await importTasks(v2, dest, { force: true });
    expect(forced.imported).toEqual(['task_x']);
    expect(forced.replaced).toEqual(['task_x']);
    expect(forced.unchanged).toEqual(['task_y']);
    expect(readFileSync(path.join(dest, 'task_x', 'task.md'), 'utf8')).toBe('# Version 2\n');
  });

  it('refuses bad tasks with the reason, and copies none of them', async () => {
    const src = taskTree('bad', {
      'good/task.md': '# Good task\nbody',
      'empty/task.md': '',
      'huge.md': 'x'.repeat(MAX_TASK_BYTES + 1),
      'latin1.md': Buffer.from([0x23, 0x20, 0xe9, 0x0a]),
      'ansi.md': '# T\n\u001b[31mred\n',
      'bad name.md': '# Spaces\n',
      'no-task-md/other.md': '# not here',
      'calibration-under-shift/task.md': '# Imposter\nbody',
      'same/task.md': '# One\n',
      'same.md': '# Other\n',
    });
    const dest = tempDir('dest');
    const report = await importTasks(src, dest);
    expect(report.imported).toEqual(['good']);
    expect(Object.fromEntries(report.refused.map((r) => [r.name, r.reason]))).toEqual({
      ansi: 'task "ansi": ansi.md is not prose: it holds control character U+001B on line 2',
      'bad name': 'task file name "bad name.md" must use letters, digits, \'.\', \'_\' or \'-\' only',
      'calibration-under-shift': expect.stringMatching(/already ships in tasks\/examples, which `lab run calibration-under-shift` would use/),
      empty: 'task "empty": task.md is empty',
      huge: `task "huge": huge.md is ${MAX_TASK_BYTES + 1} bytes, over the ${MAX_TASK_BYTES}-byte limit`,
      latin1: 'task "latin1": latin1.md is not valid UTF-8',
      'no-task-md': expect.stringMatching(/^task "no-task-md" has no task.md/),
      same: expect.stringMatching(/^"same" is in the source twice with different content/),
    });
    expect(readdirSync(dest)).toEqual(['good']);
  });

  it('fails when the source holds no task at all', async () => {
    await expect(importTasks(tempDir('empty-src'), tempDir('dest'))).rejects.toThrow(/no task folders in .*: expected one folder per task/);
    await expect(importTasks(taskTree('notes', { 'README.md': '# hi' }), tempDir('dest'))).rejects.toThrow(TaskError);
    await expect(importTasks(path.join(tempDir('gone'), 'nope'), tempDir('dest'))).rejects.toThrow(/task source not found/);
  });
});

describe('task sets', () => {
  let extra: string;
  beforeAll(() => {
    extra = taskTree('set', {
      'zzconf2025_alpha/task.md': '# Alpha\n',
      'zzconf2025_zzmark/task.md': '# Mark\n',
      'zzconf2024_beta/task.md': '# Beta\n',
      'yyconf2024_gamma/task.md': '# Gamma\n',
      'plain-zz-task/task.md': '# Plain\n',
    });
  });
  afterEach(() => void delete process.env.LAB_TASKS_DIR);
  const names = async (spec: string) => (await selectTasks(spec)).map((t) => t.name);

  it('selects by name, glob, filter, path and all, as a sorted union without repeats', async () => {
    process.env.LAB_TASKS_DIR = extra;
    expect(await names('zzconf2025_alpha')).toEqual(['zzconf2025_alpha']);
    expect(await names('zzconf2025_*')).toEqual(['zzconf2025_alpha', 'zzconf2025_zzmark']);
    expect(await names('*zzmark*')).toEqual(['zzconf2025_zzmark']);
    expect(await names('venue:zzconf')).toEqual(['zzconf2024_beta', 'zzconf2025_alpha', 'zzconf2025_zzmark']);
    expect(await names('venue:zzconf+year:2024')).toEqual(['zzconf2024_beta']);
    expect(await names('yyconf*, zzconf2025_alpha, zzconf*')).toEqual(['yyconf2024_gamma', 'zzconf2024_beta', 'zzconf2025_alpha', 'zzconf2025_zzmark']);
    expect(await names('plain-zz-task,venue:yyconf+year:2024')).toEqual(['plain-zz-task', 'yyconf2024_gamma']);
    expect(await names('all')).toEqual(expect.arrayContaining(['calibration-under-shift', 'plain-zz-task', 'zzconf2025_alpha']));
    const loaded = await selectTasks('zzconf2025_alpha');
    expect(loaded[0]).toMatchObject({ folder: path.join(extra, 'zzconf2025_alpha'), title: 'Alpha', content: '# Alpha\n' });
    delete process.env.LAB_TASKS_DIR;
    // A folder of tasks, or one task folder, by path (no search folder needed).
    expect(await names(extra)).toEqual(['plain-zz-task', 'yyconf2024_gamma', 'zzconf2024_beta', 'zzconf2025_alpha', 'zzconf2025_zzmark']);
    expect(await names(`${path.join(extra, 'zzconf2024_beta')},calibration-under-shift`)).toEqual(['calibration-under-shift', 'zzconf2024_beta']);
  });

  it('says which item matches nothing, and refuses bad filters and invalid tasks', async () => {
    process.env.LAB_TASKS_DIR = extra;
    await expect(selectTasks('zzconf2025_alpha,nosuch_*')).rejects.toThrow("no task matches 'nosuch_*' (see lab tasks list)");
    await expect(selectTasks('nosuch-task')).rejects.toThrow("no task matches 'nosuch-task' (see lab tasks list)");
    await expect(selectTasks('venue:zzconf+year:1999')).rejects.toThrow("no task matches 'venue:zzconf+year:1999'");
    await expect(selectTasks('year:x')).rejects.toThrow(/year must be a four-digit year/);
    await expect(selectTasks('color:red')).rejects.toThrow(/unknown filter "color:red"/);
    await expect(selectTasks('a,,b')).rejects.toThrow(/empty item/);
    await expect(selectTasks(path.join(extra, 'missing'))).rejects.toThrow(/task folder not found/);
    const broken = taskTree('broken', { 'zzbroken/task.md': '' });
    await expect(selectTasks(`zzconf2025_alpha,${broken}`)).rejects.toThrow('1 selected task(s) are invalid: task "zzbroken": task.md is empty');
    const twin = taskTree('twin', { 'zzconf2025_alpha/task.md': '# Another alpha\n' });
    await expect(selectTasks(`zzconf2025_alpha,${path.join(twin, 'zzconf2025_alpha')}`)).rejects.toThrow(/two different tasks named "zzconf2025_alpha"/);
  });
});

describe('lab tasks (the real CLI)', () => {
  it('lists tasks of one year with venue, year and title, and a count line', async () => {
    const extra = taskTree('cli', { 'zzconf2025_alpha/task.md': '# Alpha workshop\n', 'zzconf2024_beta/task.md': '# Beta\n' });
    const r = await lab(['tasks', 'list', '--year', '2025', '--venue', 'zzconf'], { LAB_TASKS_DIR: extra });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^task\s+venue\s+year\s+title\n/);
    expect(r.stdout).toMatch(/zzconf2025_alpha\s+zzconf\s+2025\s+Alpha workshop/);
    expect(r.stdout).not.toContain('zzconf2024_beta');
    expect(r.stdout).toMatch(/\n1 of \d+ tasks match --venue zzconf --year 2025; by year: 2025 1; by venue: zzconf 1\n/);
    // The last line says that any folder with a task.md runs too (issue 15, item 11h).
    expect(r.stdout).toMatch(/any folder with a task\.md can be run by its path too: lab run \.\/my-task\n$/);
    const json = await lab(['tasks', '--year', '2025', '--json'], { LAB_TASKS_DIR: extra });
    expect(JSON.parse(json.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'zzconf2025_alpha', venue: 'zzconf', year: 2025, title: 'Alpha workshop', shadowed: [] })]));
  });

  it('a bad --year exits 2 with the reason', async () => {
    const r = await lab(['tasks', 'list', '--year', 'x']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe('lab tasks: --year must be a four-digit year like 2025, got "x"');
  });

  it('imports with a summary, and exits 2 when nothing is importable', async () => {
    const dest = tempDir('cli-dest');
    const ok = await lab(['tasks', 'import', taskTree('cli-src', { 'zzconf2025_alpha.md': '# A\n', 'empty.md': '' }), '--dest', dest]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('imported 1, unchanged 0, duplicates 0, refused 1 into');
    expect(ok.stdout).toContain('1 task; by year: 2025 1; by venue: zzconf 1');
    expect(ok.stdout).toContain('refused empty: task "empty": empty.md is empty');
    const none = await lab(['tasks', 'import', taskTree('cli-bad', { 'empty.md': '' }), '--dest', dest]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^lab tasks: nothing importable in .*: all 1 task\(s\) refused\n$/);
    const missing = await lab(['tasks', 'import']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe('lab tasks: missing folder: lab tasks import <folder>');
  });
});
