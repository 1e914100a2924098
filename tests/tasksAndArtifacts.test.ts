/** Task loading (the importer: tasks.import.test.ts), the artifact store and model specs: the pure-ish building blocks. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactIntegrityError } from '../activities/artifacts.js';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { costUsd, priceFor, resetPriceTable } from '../activities/llm/prices.js';
import { parseModelSpec, resolveAutoModel } from '../common/modelSpec.js';
import { listTasks, loadTask, MAX_TASK_BYTES, taskTitle } from '../activities/tasks.js';
import { parseStageList } from '../common/stages.js';
import { runLink } from '../scripts/lib/uiLink.js';
import { tempDir } from './helpers/temporal.js';

describe('tasks', () => {
  it('ships example tasks that load by name', async () => {
    const names = (await listTasks()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['calibration-under-shift', 'small-lm-data-efficiency', 'reproducible-ml-pipelines']));
    const task = await loadTask('calibration-under-shift');
    expect(task.title).toBe('Workshop on Reliable Uncertainty Under Distribution Shift');
  });

  it('rejects oversized task files', async () => {
    const dir = path.join(tempDir('tasks'), 'huge');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'task.md'), 'x'.repeat(MAX_TASK_BYTES + 1));
    await expect(loadTask(dir)).rejects.toThrow(/over the 65536-byte limit/);
  });

  it('takes a title from a heading, else the first line (as in MLR-Bench tasks without "# ")', () => {
    expect(taskTitle('intro\n\n## The Title\nbody', 'f')).toBe('The Title');
    expect(taskTitle('**Bold first line**\nmore', 'f')).toBe('Bold first line');
  });
});

describe('artifact store', () => {
  it('stores content once by sha256, with a readable copy per run', async () => {
    const store = new LocalArtifactStore(tempDir('store'));
    const a = await store.put('run-a', 'idea.md', '# Idea\n');
    const b = await store.put('run-b', 'idea.md', '# Idea\n');
    expect(a.sha256).toBe(b.sha256);
    expect(a.uri).toBe(`artifact:sha256/${a.sha256}`);
    expect(a.path).toBe('runs/run-a/idea.md');
    expect(await fs.readFile(store.localPath(b), 'utf8')).toBe('# Idea\n');
    expect(await store.getText(a)).toBe('# Idea\n');
    expect(a.bytes).toBe(7);
  });

  it('detects corrupted content and refuses unsafe names', async () => {
    const store = new LocalArtifactStore(tempDir('store'));
    const ref = await store.put('run', 'x.md', 'original');
    await fs.writeFile(path.join(store.root, 'objects', 'sha256', ref.sha256.slice(0, 2), ref.sha256), 'tampered');
    await expect(store.get(ref)).rejects.toThrow(ArtifactIntegrityError);
    await expect(store.put('run', '../escape.md', 'x')).rejects.toThrow(/invalid artifact name/);
    await expect(store.put('..', 'x.md', 'x')).rejects.toThrow(/invalid run id/);
  });
});

describe('model specs and stage lists', () => {
  it('parses every provider form', () => {
    expect(parseModelSpec('embedded')).toMatchObject({ provider: 'embedded', model: '' });
    expect(parseModelSpec('embedded:/models/x.gguf')).toMatchObject({ provider: 'embedded', model: '/models/x.gguf' });
    expect(parseModelSpec('openrouter:google/gemini-2.5-pro')).toMatchObject({ provider: 'openrouter', model: 'google/gemini-2.5-pro' });
    expect(parseModelSpec('openai-compatible:llama3@http://localhost:11434/v1')).toMatchObject({
      provider: 'openai-compatible',
      model: 'llama3',
      baseURL: 'http://localhost:11434/v1',
    });
    expect(() => parseModelSpec('gpt-4')).toThrow(/unknown model spec/);
    expect(() => parseModelSpec('openai:')).toThrow(/names no model/);
    expect(() => parseModelSpec('openai-compatible:m@ftp://x')).toThrow(/must start with http/);
  });

  it('auto picks a provider from the keys that are set, else the embedded model', () => {
    expect(resolveAutoModel({})).toBe('embedded');
    expect(resolveAutoModel({ OPENAI_API_KEY: 'k' })).toBe('openai:gpt-4.1-mini');
    // Split pools: the research worker that chooses has no keys; LAB_AUTO_MODEL names what the LLM pool serves.
    expect(resolveAutoModel({ LAB_AUTO_MODEL: 'anthropic:claude-sonnet-4-5' })).toBe('anthropic:claude-sonnet-4-5');
    expect(() => resolveAutoModel({ LAB_AUTO_MODEL: 'nonsense:model' })).toThrow(/LAB_AUTO_MODEL/);
    expect(resolveAutoModel({ OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k' })).toMatch(/^anthropic:/);
  });

  it('parses gate lists', () => {
    expect(parseStageList('idea, proposal,idea')).toEqual(['idea', 'proposal']);
    expect(() => parseStageList('idea,review')).toThrow('unknown stage "review" (stages are: idea, literature, proposal, experiment, paper)');
  });
});

describe('price table', () => {
  it('matches the longest provider:model prefix and can be overridden by LAB_PRICES_FILE', () => {
    expect(priceFor('openai', 'gpt-4.1-mini-2025-04-14')).toEqual({ input: 0.4, output: 1.6 });
    expect(priceFor('openai', 'gpt-4.1-2025-04-14')).toEqual({ input: 2, output: 8 });
    expect(priceFor('embedded', 'anything.gguf')).toEqual({ input: 0, output: 0 });
    expect(priceFor('openai', 'unknown-model')).toBeUndefined();
    expect(costUsd({ input: 3, output: 15 }, 1_000_000, 100_000)).toBe(4.5);

    const file = path.join(tempDir('prices'), 'prices.json');
    writeFileSync(file, JSON.stringify({ 'openai:gpt-4.1-mini': { input: 0.1, output: 0.2 }, 'openai:my-finetune': { input: 5, output: 6 } }));
    process.env.LAB_PRICES_FILE = file;
    try {
      resetPriceTable();
      expect(priceFor('openai', 'gpt-4.1-mini')).toEqual({ input: 0.1, output: 0.2 });
      expect(priceFor('openai', 'my-finetune-v2')).toEqual({ input: 5, output: 6 });
      expect(priceFor('anthropic', 'claude-sonnet-4-5')).toEqual({ input: 3, output: 15 });
      writeFileSync(file, JSON.stringify({ 'openai:x': { input: 'cheap' } }));
      resetPriceTable();
      expect(() => priceFor('openai', 'x')).toThrow(`${file}: price for "openai:x" needs numeric "input" and "output" (USD per 1M tokens)`);
    } finally {
      delete process.env.LAB_PRICES_FILE;
      resetPriceTable();
    }
  });
});

describe('issue-6 guards at the unit level', () => {
  it('lab tasks says which folder a name resolves to when two folders share it', async () => {
    const extra = tempDir('extra-tasks');
    mkdirSync(path.join(extra, 'calibration-under-shift'));
    writeFileSync(path.join(extra, 'calibration-under-shift', 'task.md'), '# Mine\nbody');
    process.env.LAB_TASKS_DIR = extra;
    try {
      const entry = (await listTasks()).find((t) => t.name === 'calibration-under-shift')!;
      expect(entry.folder).toBe(path.join(extra, 'calibration-under-shift'));
      expect(entry.shadowed).toEqual([expect.stringMatching(/tasks\/examples\/calibration-under-shift$/)]);
      expect((await loadTask('calibration-under-shift')).title).toBe('Mine');
    } finally {
      delete process.env.LAB_TASKS_DIR;
    }
  });

  it('task text must be prose: control bytes are refused with their line', async () => {
    const dir = path.join(tempDir('ctrl'), 'escape-codes');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'task.md'), '# Title\n\tindented text is fine\r\nbut \u001b[31mANSI escapes\u001b[0m are not\n');
    await expect(loadTask(dir)).rejects.toThrow('task "escape-codes": task.md is not prose: it holds control character U+001B on line 3');
  });

  it('the artifact store keeps every write inside its run folder', async () => {
    const store = new LocalArtifactStore(tempDir('store'));
    for (const id of ['../x', 'a/b', '.hidden', 'a..b', '', 'x'.repeat(201)]) {
      await expect(store.put(id, 'idea.md', 'x'), id).rejects.toThrow(/invalid run id/);
    }
    for (const name of ['../idea.md', 'a/../../b.md', '/etc/passwd', 'a//b.md', 'sub/.']) {
      await expect(store.put('run-1', name, 'x'), name).rejects.toThrow(/invalid artifact name/);
    }
    expect((await store.put('run-1', 'experiment/main.py', 'print(1)')).path).toBe('runs/run-1/experiment/main.py');
  });

  it('a resumed run gets readable copies of the artifacts it reuses', async () => {
    const store = new LocalArtifactStore(tempDir('store'));
    const original = await store.put('run-1', 'experiment/main.py', 'print(1)', 'text/x-python');
    const copy = await store.copyToRun('run-1-resume1', original);
    expect(copy).toMatchObject({ sha256: original.sha256, path: 'runs/run-1-resume1/experiment/main.py', mediaType: 'text/x-python' });
    expect(await fs.readFile(store.localPath(copy), 'utf8')).toBe('print(1)');
  });

  it('model specs with an empty part name the missing part', () => {
    expect(() => parseModelSpec('openai-compatible:@http://h:1/v1')).toThrow(/names no model before "@"/);
    expect(() => parseModelSpec('openai-compatible:m@')).toThrow(/has no base URL after "@"/);
    expect(() => parseModelSpec('anthropic: ')).toThrow(/names no model/);
  });
});

describe('Web UI links', () => {
  const run = (env: NodeJS.ProcessEnv) => runLink('r-1', { LAB_HOME: tempDir('ui-home'), ...env });
  it('follow LAB_UI_URL, else the dev server default (port + 1000), else Temporal Cloud', () => {
    expect(run({ LAB_UI_URL: 'http://ui.example:9999/' })).toBe('http://ui.example:9999/namespaces/default/workflows/r-1');
    expect(run({ TEMPORAL_ADDRESS: 'localhost:7300' })).toBe('http://localhost:8300/namespaces/default/workflows/r-1');
    expect(run({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'k' })).toBe(
      'https://cloud.temporal.io/namespaces/ns.acct/workflows/r-1',
    );
    expect(run({ TEMPORAL_ADDRESS: 'temporal.internal:7233' })).toMatch(/set LAB_UI_URL/);
  });
});
