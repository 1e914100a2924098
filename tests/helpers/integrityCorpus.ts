/**
 * The labelled integrity corpus (tests/fixtures/provenance-corpus): MLR-Bench's ten end-to-end
 * outputs unpacked from the fixture tarball, the hand labels of every number their papers state,
 * and the planted fabrications; and the arithmetic of precision and recall over them.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../activities/config.js';
import { STATED_NUMBER } from '../../activities/integrity/check/numbers.js';
import { FLAGGED_VERDICTS, type CheckReport, type Finding } from '../../activities/integrity/check/types.js';

const FIXTURES = path.join(PROJECT_ROOT, 'tests', 'fixtures');
export const CORPUS_TARBALL = path.join(FIXTURES, 'mlrbench-end2end.tar.gz');
const CORPUS = path.join(FIXTURES, 'provenance-corpus');

export const TASKS = ['iclr2025_bi_align', 'iclr2025_buildingtrust', 'iclr2025_data_problems', 'iclr2025_dl4c', 'iclr2025_mldpr', 'iclr2025_question', 'iclr2025_scope', 'iclr2025_scsl', 'iclr2025_verifai', 'iclr2025_wsl'];

export interface Label {
  line: number;
  text: string;
  nth: number;
  role: string;
  truth: string;
  source?: string;
  note?: string;
}
export interface Labels {
  task: string;
  document: string;
  hasData: boolean;
  typedFiles: Array<{ file: string; evidence: string }>;
  numbers: Label[];
}
export interface Plant {
  id: string;
  task: string;
  kind: string;
  edits: Array<{ file: string; find: string; replace: string }>;
  addFiles?: Array<{ file: string; content: string }>;
  transcript?: unknown[];
  planted: { file: string; text: string; lineContains: string };
  note?: string;
}

/** Unpacks the ten task folders into a fresh temporary folder; returns it. */
export function unpackCorpus(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-corpus-'));
  execFileSync('tar', ['-xzf', CORPUS_TARBALL, '-C', dir]);
  return dir;
}

export const labelsOf = (task: string): Labels => JSON.parse(readFileSync(path.join(CORPUS, 'labels', `${task}.json`), 'utf8'));
export const plants = (): Plant[] => JSON.parse(readFileSync(path.join(CORPUS, 'planted.json'), 'utf8'));

/** The labels' enumeration of a line's numbers (the check's own number syntax): where each starts, its text and occurrence. */
const LABEL_NUMBER = STATED_NUMBER;

/** The label key (text and occurrence) of the number that starts at `column` of `raw`. */
export function keyAt(raw: string, column: number): { text: string; nth: number } | undefined {
  const seen = new Map<string, number>();
  for (const m of raw.matchAll(LABEL_NUMBER)) {
    const lead = m[0].length - m[0].trimStart().length;
    const signed = /^[-−]/.test(m[0].trimStart()) ? 1 : 0;
    const start = m.index! + lead + signed;
    const text = m[0].trim().replace(/^[-−]/, '').replace(/\s+%$/, '%');
    const nth = seen.get(text) ?? 0;
    seen.set(text, nth + 1);
    if (start === column) return { text, nth };
  }
  return undefined;
}

export function labelOf(labels: Labels, paper: string, f: Finding): Label | undefined {
  const raw = paper.split('\n')[f.line - 1] ?? '';
  const key = keyAt(raw, f.column);
  if (!key) return undefined;
  return labels.numbers.find((l) => l.line === f.line && l.text === key.text && l.nth === key.nth);
}

export const isFlag = (f: Finding) => f.role === 'result' && FLAGGED_VERDICTS.includes(f.verdict);
/** A flag is right when the labeller found the number unsupported or only in a typed file. */
export const rightFlag = (l: Label | undefined) => !!l && l.role === 'result' && (l.truth === 'unsupported' || l.truth === 'typed');

export interface PrecisionTally {
  flags: number;
  right: number;
  wrong: Array<{ line: number; text: string; verdict: string; label: string }>;
  /** Labelled unsupported/typed result numbers the check did not flag. */
  missed: number;
  labelledBad: number;
}

export function tallyPrecision(report: CheckReport, labels: Labels, paper: string): PrecisionTally {
  const t: PrecisionTally = { flags: 0, right: 0, wrong: [], missed: 0, labelledBad: 0 };
  const flaggedKeys = new Set<string>();
  for (const f of report.findings) {
    if (!isFlag(f)) continue;
    t.flags++;
    const l = labelOf(labels, paper, f);
    if (l) flaggedKeys.add(`${l.line}:${l.text}:${l.nth}`);
    if (rightFlag(l)) t.right++;
    else t.wrong.push({ line: f.line, text: f.text, verdict: f.verdict, label: l ? `${l.role}/${l.truth}` : 'unlabelled' });
  }
  for (const l of labels.numbers) {
    if (!rightFlag(l)) continue;
    t.labelledBad++;
    if (!flaggedKeys.has(`${l.line}:${l.text}:${l.nth}`)) t.missed++;
  }
  return t;
}

/** A copy of the task's folder with one plant applied; returns the copy. */
export function plantedCopy(corpus: string, plant: Plant): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `lab-plant-${plant.id}-`));
  cpSync(path.join(corpus, plant.task), dir, { recursive: true });
  for (const e of plant.edits) {
    const file = path.join(dir, e.file);
    const text = readFileSync(file, 'utf8');
    if (text.split(e.find).length !== 2) throw new Error(`plant ${plant.id}: "${e.find}" does not occur exactly once in ${e.file}`);
    writeFileSync(file, text.replace(e.find, () => e.replace));
  }
  for (const a of plant.addFiles ?? []) {
    mkdirSync(path.dirname(path.join(dir, a.file)), { recursive: true });
    writeFileSync(path.join(dir, a.file), a.content);
  }
  if (plant.transcript?.length) {
    const file = path.join(dir, 'claude_output.json');
    const messages = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
    writeFileSync(file, JSON.stringify([...messages, ...plant.transcript]));
  }
  return dir;
}

/** The finding for the planted number (its line and text), if the check stated one. */
export function plantedFinding(report: CheckReport, folder: string, plant: Plant): Finding | undefined {
  const lines = readFileSync(path.join(folder, plant.planted.file), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(plant.planted.lineContains)) + 1;
  return report.findings.find((f) => f.line === line && f.text === plant.planted.text);
}

export const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : 'n/a');
void appendFileSync;
