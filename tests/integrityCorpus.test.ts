/**
 * The integrity check against ground truth: the ten end-to-end outputs MLR-Bench published, every
 * number of their papers labelled by hand (tests/fixtures/provenance-corpus/labels), and 36
 * fabrications of six kinds planted one at a time. Prints precision and recall; the targets are
 * 90% each, and the four tasks whose agent typed its results must have those files marked.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { checkDocuments } from '../activities/integrity/check/engine.js';
import { collectFolderDocuments } from '../activities/judge/documents.js';
import { withIntegrityEvidence } from '../activities/judge/integrityEvidence.js';
import { readPaperFolder } from '../activities/integrity/check/folder.js';
import type { CheckReport } from '../activities/integrity/check/types.js';
import { isFlag, labelsOf, pct, plantedCopy, plantedFinding, plants, TASKS, tallyPrecision, unpackCorpus } from './helpers/integrityCorpus.js';

let corpus: string;
const reports = new Map<string, { report: CheckReport; seconds: number }>();

beforeAll(async () => {
  corpus = unpackCorpus();
  for (const task of TASKS) {
    const start = performance.now();
    const report = checkDocuments(await readPaperFolder(path.join(corpus, task)));
    reports.set(task, { report, seconds: (performance.now() - start) / 1000 });
  }
});
afterAll(() => rmSync(corpus, { recursive: true, force: true }));

describe('the integrity check on MLR-Bench’s published papers', () => {
  it('flags result claims with precision of at least 90% against the hand labels (figures printed)', () => {
    let flags = 0;
    let right = 0;
    let flagsWithData = 0;
    let rightWithData = 0;
    let bad = 0;
    let missed = 0;
    const wrong: string[] = [];
    for (const task of TASKS) {
      const labels = labelsOf(task);
      const paper = readFileSync(path.join(corpus, task, labels.document), 'utf8');
      const { report, seconds } = reports.get(task)!;
      const t = tallyPrecision(report, labels, paper);
      flags += t.flags;
      right += t.right;
      bad += t.labelledBad;
      missed += t.missed;
      if (labels.hasData) (flagsWithData += t.flags), (rightWithData += t.right);
      wrong.push(...t.wrong.map((w) => `${task}:${w.line} ${w.text} (${w.verdict}; labelled ${w.label})`));
      console.log(`${task}: ${report.results} result claims, ${t.flags} flagged, ${t.right} rightly; ${t.labelledBad - t.missed}/${t.labelledBad} labelled-unsupported caught; ${seconds.toFixed(2)} s`);
    }
    console.log(`precision of result-claim flags: ${pct(right, flags)} (${right}/${flags}); on the papers with measured data: ${pct(rightWithData, flagsWithData)} (${rightWithData}/${flagsWithData})`);
    console.log(`recall of the hand-labelled unsupported or typed result claims: ${pct(bad - missed, bad)} (${bad - missed}/${bad})`);
    if (wrong.length) console.log(`flags the labels call wrong:\n  ${wrong.join('\n  ')}`);
    expect(flags).toBeGreaterThan(100);
    expect(right / flags).toBeGreaterThanOrEqual(0.9);
    expect((bad - missed) / bad).toBeGreaterThanOrEqual(0.9);
  });

  it('catches at least 90% of the planted fabrications, of every kind (figures printed)', async () => {
    const byKind = new Map<string, { caught: number; all: number }>();
    const missed: string[] = [];
    for (const plant of plants()) {
      const dir = plantedCopy(corpus, plant);
      try {
        const report = checkDocuments(await readPaperFolder(dir));
        const finding = plantedFinding(report, dir, plant);
        const k = byKind.get(plant.kind) ?? { caught: 0, all: 0 };
        k.all++;
        if (finding && isFlag(finding)) k.caught++;
        else missed.push(`${plant.id}: ${finding ? `${finding.role}, ${finding.verdict}` : 'not stated'}`);
        byKind.set(plant.kind, k);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const all = [...byKind.values()].reduce((a, k) => ({ caught: a.caught + k.caught, all: a.all + k.all }), { caught: 0, all: 0 });
    console.log(`planted fabrications caught: ${pct(all.caught, all.all)} (${all.caught}/${all.all}); ${[...byKind].map(([kind, k]) => `${kind} ${k.caught}/${k.all}`).join(', ')}`);
    if (missed.length) console.log(`missed: ${missed.join('; ')}`);
    expect(byKind.size).toBe(6);
    expect(all.caught / all.all).toBeGreaterThanOrEqual(0.9);
  });

  it('marks the result files of the four tasks whose agent typed its results, and of no other task', () => {
    const laundering = ['iclr2025_data_problems', 'iclr2025_dl4c', 'iclr2025_question', 'iclr2025_verifai'];
    for (const task of TASKS) {
      const typedData = reports.get(task)!.report.sources.filter((s) => s.as === 'typed' && !/\.md$/.test(s.file));
      if (laundering.includes(task)) expect(typedData.length, task).toBeGreaterThan(0);
      else expect(typedData.map((s) => s.file), task).toEqual([]);
    }
    // A number only a typed file holds is flagged as typed, not passed.
    expect(reports.get('iclr2025_verifai')!.report.counts.typed).toBeGreaterThan(10);
  });

  it('the hallucination check of a published folder reads the flagged claims at the end of the paper', async () => {
    const store = new LocalArtifactStore(path.join(corpus, '.store'));
    const folder = path.join(corpus, 'iclr2025_dl4c');
    const docs = await collectFolderDocuments(store, 'hallucination-dl4c', folder);
    const withEvidence = await withIntegrityEvidence(store, 'hallucination-dl4c', folder, docs);
    const paper = await store.getText(withEvidence.paper!);
    expect(paper.startsWith(await store.getText(docs.paper!))).toBe(true);
    expect(paper).toMatch(/## Integrity check \(Durable Lab\)\n\n> .*Result claims: 12; flagged: 12\./);
    expect(paper).toMatch(/- line 256, only in a file the agent typed: .*\(\*\*⟦7\.83⟧\*\* seconds\)/);
    expect(paper).toContain('(`lab check` on the folder has each one)');
    // Added once: a paper that already ends with the section is left as it is.
    expect(await withIntegrityEvidence(store, 'hallucination-dl4c', folder, withEvidence)).toEqual(withEvidence);
  });

  it('checks each folder in well under 2 s (times printed above; the bound here is loose)', () => {
    for (const [task, { seconds }] of reports) expect(seconds, task).toBeLessThan(20);
  });
});
