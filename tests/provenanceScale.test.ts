/**
 * The provenance check at scale, and a check that fails: a results file of a million numbers is
 * indexed and checked (it used to throw RangeError from a spread of ~122k arguments), and a check
 * that throws is written as a finding (`status: "error"`), never as a failed stage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalArtifactStore } from '../activities/store/localStore.js';
import { createResultsActivities } from '../activities/experiment/results.js';
import { checkDocuments } from '../activities/integrity/check/engine.js';
import { parseStated, sameNumber, STATED_NUMBER } from '../activities/integrity/check/numbers.js';
import { ValueIndex } from '../activities/integrity/check/valueIndex.js';
import { writeProvenance } from '../activities/stages/evidence.js';
import { STAGE_HOOKS } from '../activities/stages/hooks.js';
import type { ArtifactRef } from '../common/schemas.js';
import { formatChecks } from '../scripts/lib/format.js';
import type { StageActivityInput } from '../activities/types.js';
import { useScratchEnv } from './helpers/scratchEnv.js';

const scratch = useScratchEnv('provscale', { LAB_WORKSPACE_DIR: 'workspaces' });
let store: LocalArtifactStore;
beforeAll(() => {
  store = scratch.store;
});

/** A results JSON of `n` measured numbers (losses of a long training run), deterministic. */
function bigResults(n: number): string {
  const losses: string[] = new Array(n);
  let x = 0.123456789;
  for (let i = 0; i < n; i++) {
    x = (x * 9301 + 0.49297) % 1;
    losses[i] = (x * 3).toFixed(6);
  }
  return `{"accuracy": 0.9133, "f1": 0.9071, "loss": [${losses.join(',')}]}\n`;
}

const paper = 'We reach 91.3% accuracy (F1 0.907).\nOur method improves accuracy to 412.5% over the baseline.\n';

describe('provenance at scale', () => {
  it('finds exactly what a scan of every value finds (random values and stated numbers)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values = Array.from({ length: 3000 }, (_, i) => {
      const v = [rand(), rand() * 100, rand() * 1e4, Math.round(rand() * 1000), rand() / 100][i % 5];
      return i % 7 === 0 ? -v : v;
    });
    values.push(0, 0.5, 95.25, -0.42, 1e-9, 12);
    const index = new ValueIndex();
    index.add('results/values.csv', `value\n${values.map(String).join('\n')}\n`);
    expect(index.size).toBe(values.length);
    const stated = (text: string) => [...text.matchAll(STATED_NUMBER)].map((m) => parseStated(m[0])!);
    const naive = (s: ReturnType<typeof parseStated> & object) => values.some((v) => sameNumber(s, v));
    let agreed = 0;
    for (let i = 0; i < 4000; i++) {
      const base = values[Math.floor(rand() * values.length)] * [1, 100, 0.01][i % 3];
      const jitter = i % 2 ? 0 : (rand() - 0.5) * 10 ** -Math.floor(rand() * 6);
      const decimals = Math.floor(rand() * 6);
      const text = `${(base + jitter).toFixed(decimals)}${i % 4 === 0 ? '%' : ''}`;
      for (const s of stated(`stated ${text} here`)) {
        expect(index.candidates(s).length > 0, text).toBe(naive(s));
        agreed++;
      }
    }
    for (const text of ['0.00', '-0.0', '0%', '-42%', '1,200', '9.5e-3', '1e-9', '12.0']) {
      for (const s of stated(`stated ${text} here`)) expect(index.candidates(s).length > 0, text).toBe(naive(s));
    }
    expect(agreed).toBeGreaterThan(3000);
  });

  it('a results JSON of 200,000 numbers is indexed and checked: no RangeError', () => {
    const report = checkDocuments({ documents: { 'paper.md': paper }, sources: [{ file: 'results/metrics.json', content: bigResults(200_000), as: 'measured' }] });
    // The losses, their first/last/min/max/mean, and the two metrics.
    expect(report.sources).toEqual([{ file: 'results/metrics.json', as: 'measured', values: 200_007 }]);
    expect(report).toMatchObject({ status: 'ok', results: 3, flagged: 1 });
    expect(report.findings.filter((f) => f.verdict === 'unsupported').map((f) => f.text)).toEqual(['412.5%']);
  });

  it('a paper with a 120,000-row results table (5 MB) is checked: no RangeError from its number of findings', () => {
    const rows = Array.from({ length: 120_000 }, (_, i) => `| m${i} | 0.${i % 1000} | 0.${(i * 7) % 1000} |`);
    const longPaper = ['## Results', '', '| method | acc | f1 |', '|---|---|---|', ...rows].join('\n');
    const report = checkDocuments({ documents: { 'paper.md': longPaper }, sources: [{ file: 'results/metrics.json', content: '{"acc": 0.5}', as: 'measured' }] });
    expect(report.status).toBe('ok');
    expect(report.findings.length).toBeGreaterThan(120_000);
  }, 120_000);

  it('a source of 1,000,000 numbers is indexed and checked against a paper in under 2 s (figure printed), through the paper stage writer', async () => {
    const content = bigResults(1_000_000);
    const ref = await store.put('prov-scale', 'results/metrics.json', content, 'application/json');
    const start = performance.now();
    const { report } = await writeProvenance(store, 'prov-scale', { 'paper.md': paper }, [ref]);
    const seconds = (performance.now() - start) / 1000;
    console.log(`provenance: ${(content.length / 1e6).toFixed(1)} MB, 1,000,003 numbers indexed and a paper checked in ${seconds.toFixed(2)} s (read from the store included)`);
    expect(report).toMatchObject({ results: 3, flagged: 1, status: 'ok', sources: [{ file: 'results/metrics.json', as: 'measured', values: 1_000_007 }] });
    // The 2 s target is measured above; the bound asserted is loose so a busy machine cannot flake it.
    expect(seconds).toBeLessThan(20);
  }, 60_000);
});

describe('a provenance check that cannot run is a finding, not a failure', () => {
  const ref = (p: string): ArtifactRef => ({ uri: 'artifact:sha256/x', sha256: 'x', bytes: 1, path: `runs/prov-fail/${p}`, mediaType: 'text/plain' });
  /** The index throws as it did on a source of more than ~122k numbers. */
  const crashingIndex = () =>
    vi.spyOn(ValueIndex.prototype, 'add').mockImplementation(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
  afterEach(() => vi.restoreAllMocks());

  it('writeProvenance writes status "error" and the reason into provenance.json, and returns', async () => {
    const source = await store.put('prov-fail', 'results/metrics.json', '{"accuracy": 0.9133}', 'application/json');
    crashingIndex();
    const { report, ref: written } = await writeProvenance(store, 'prov-fail', { 'paper.md': paper }, [source]);
    expect(report).toMatchObject({ status: 'error', checked: 0, findings: [], sources: [{ file: 'results/metrics.json' }] });
    expect(report.error).toBe('RangeError: Maximum call stack size exceeded');
    const json = JSON.parse(readFileSync(store.localPath(written), 'utf8'));
    expect(json).toMatchObject({ status: 'error', error: report.error });
  });

  it('the paper stage appends that the check could not run and why, and its checks carry the error', async () => {
    const input: StageActivityInput = {
      runId: 'prov-fail',
      stage: 'paper',
      model: 'm',
      task: { name: 't', ref: ref('task.md') },
      inputs: {},
      sources: [await store.put('prov-fail', 'results/metrics.json', '{"accuracy": 0.9133}', 'application/json')],
    };
    crashingIndex();
    const finished = await STAGE_HOOKS.paper!.finish!(store, input, paper, (t) => t);
    expect(finished.document).toContain('## Provenance check: could not run');
    expect(finished.document).toMatch(/could not run \(RangeError: Maximum call stack size exceeded\)\. No number in this paper was checked/);
    expect(finished.checks?.provenance).toMatchObject({ checked: 0, unmatched: 0, status: 'error', error: 'RangeError: Maximum call stack size exceeded' });
  });

  it('the experiment stage collects a 200,000-number results file and reports its check (no RangeError)', async () => {
    const runId = 'prov-big-exp';
    const ws = path.join(process.env.LAB_WORKSPACE_DIR!, runId);
    mkdirSync(path.join(ws, 'results'), { recursive: true });
    writeFileSync(path.join(ws, 'results', 'metrics.json'), bigResults(200_000));
    const { collectExperimentResults } = createResultsActivities({ store });
    const collected = await collectExperimentResults({
      runId,
      step: 1,
      pending: {
        action: { action: 'run', command: 'python3 train.py' },
        observation: { action: 'run', ok: true, text: 'done', exitCode: 0, filesChanged: [{ path: 'results/metrics.json', change: 'added', bytes: 1 }] },
      },
      end: 'finished',
      summary: 'Accuracy reached 91.3%, and 412.5% on a rerun.',
    });
    expect(collected.status).toBe('succeeded');
    expect(collected.provenance.status).toBeUndefined();
    const results = await store.getText(collected.results);
    expect(results).toContain('**Provenance:** 1 number(s) in this summary appear in no result file or command output: 412.5%.');
  }, 60_000);

  it('the experiment stage whose check throws says so in results.md and in its provenance summary, and completes', async () => {
    const runId = 'prov-crash-exp';
    const ws = path.join(process.env.LAB_WORKSPACE_DIR!, runId);
    mkdirSync(path.join(ws, 'results'), { recursive: true });
    writeFileSync(path.join(ws, 'results', 'metrics.json'), '{"accuracy": 0.9133}\n');
    crashingIndex();
    const { collectExperimentResults } = createResultsActivities({ store });
    const collected = await collectExperimentResults({
      runId,
      step: 1,
      pending: {
        action: { action: 'run', command: 'python3 train.py' },
        observation: { action: 'run', ok: true, text: 'done', exitCode: 0, filesChanged: [{ path: 'results/metrics.json', change: 'added', bytes: 1 }] },
      },
      end: 'finished',
      summary: 'Accuracy reached 91.3%.',
    });
    expect(collected.status).toBe('succeeded');
    expect(collected.provenance).toEqual({ checked: 0, matched: 0, unmatched: 0, status: 'error', error: 'RangeError: Maximum call stack size exceeded' });
    const results = await store.getText(collected.results);
    expect(results).toContain('## Provenance check: could not run');
    expect(results).toContain('could not run, so nothing was checked: `RangeError: Maximum call stack size exceeded`');
    expect(results).toContain('**Provenance:** the numbers in this summary could not be checked: `RangeError: Maximum call stack size exceeded`');
  });
});

describe('lab status on a provenance check that could not run', () => {
  it('says it could not run and why, not "0 numbers checked"', () => {
    const line = formatChecks({ provenance: { checked: 0, matched: 0, unmatched: 0, status: 'error', error: 'RangeError: too many numbers' } });
    expect(line).toContain('provenance: could not run (RangeError: too many numbers); no number was checked');
    expect(line).not.toContain('0 numbers checked');
    expect(formatChecks({ provenance: { checked: 3, matched: 2, unmatched: 1 } })).toContain('provenance: 3 numbers checked, 1 not found in any result file');
    // The integrity check's counts by verdict, as lab status prints them.
    const counts = { supported: 5, derived: 1, unsupported: 1, typed: 1, 'setting-recorded': 2, listed: 9 };
    expect(formatChecks({ provenance: { checked: 8, matched: 6, unmatched: 2, counts } })).toContain(
      'provenance: 8 result claims checked, 2 flagged (5 supported, 1 derived, 1 unsupported, 1 typed, 2 setting-recorded, 9 listed)',
    );
  });
});
