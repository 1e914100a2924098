/**
 * Reads MLR-Bench's published review JSON files into ReviewRecords:
 *
 *   idea_proposal_reviews_<judge>/<task>/{idea,proposal}/{idea,proposal}_<model>.json
 *   subset_reviews_<judge>/<task>/review_<agent>[_no_code].json      (end-to-end)
 *   subset_reviews_<judge>/<task>/experiments/<agent>.json
 *   subset_reviews_<judge>/<task>/paper/<model>.json
 *
 * A file that cannot be used is skipped and listed, never fatal: one bad file among thousands
 * should cost one data point, not the report.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { mapLimited } from '../common/mapLimited.js';
import path from 'node:path';
import type { ReviewKind } from '../common/reviews.js';
import { canonicalDimension } from './dimensions.js';
import type { ReportInput, ReviewRecord, UnreadableFile } from './types.js';

const IDEA_PROPOSAL_PREFIX = 'idea_proposal_reviews_';
const SUBSET_PREFIX = 'subset_reviews_';
const NO_CODE_SUFFIX = '_no_code';
/** Files read at once: enough to hide disk latency, few enough to stay clear of the open-file limit. */
const READ_CONCURRENCY = 64;

/** The folder is missing or is not laid out as MLR-Bench's reviews are (bad input, not a crash). */
export class ReviewFolderError extends Error {}

export interface MlrBenchReviewScan {
  /** The `reviews` folder actually read. */
  root: string;
  records: ReviewRecord[];
  unreadable: UnreadableFile[];
}

/** The review records of `folder` (the `reviews` folder or the folder holding it); skipped files are dropped. */
export async function readMlrBenchReviews(folder: string): Promise<ReviewRecord[]> {
  return (await scanMlrBenchReviews(folder)).records;
}

/** A report's input from a folder of MLR-Bench reviews: no runs and no item failures, only what the judges wrote. */
export async function mlrBenchReportInput(folder: string, title?: string): Promise<ReportInput> {
  const scan = await scanMlrBenchReviews(folder);
  return { title: title ?? `MLR-Bench reviews: ${scan.root}`, records: scan.records, runs: [], failures: [], unreadable: scan.unreadable, comparePublished: true };
}

export async function scanMlrBenchReviews(folder: string): Promise<MlrBenchReviewScan> {
  const root = resolveReviewsRoot(folder);
  const files = (await Promise.all(judgeFolders(root).map((d) => listJsonFiles(root, d)))).flat().sort();
  const outcomes = await mapLimited(files, READ_CONCURRENCY, (file) => readReviewFile(root, file));
  const records: ReviewRecord[] = [];
  const unreadable: UnreadableFile[] = [];
  for (const o of outcomes) {
    if ('record' in o) records.push(o.record);
    else unreadable.push(o);
  }
  return { root, records, unreadable };
}

/** `folder` itself when it holds judge folders, else its `reviews` subfolder when that does. */
export function resolveReviewsRoot(folder: string): string {
  const absolute = path.resolve(folder);
  if (!existsSync(absolute)) throw new ReviewFolderError(`no such folder: ${folder}`);
  if (!statSync(absolute).isDirectory()) throw new ReviewFolderError(`not a folder: ${folder}`);
  if (judgeFolders(absolute).length) return absolute;
  const nested = path.join(absolute, 'reviews');
  if (existsSync(nested) && statSync(nested).isDirectory() && judgeFolders(nested).length) return nested;
  throw new ReviewFolderError(
    `no MLR-Bench reviews in ${folder} (expected ${IDEA_PROPOSAL_PREFIX}<judge>/ or ${SUBSET_PREFIX}<judge>/ folders, or a reviews/ folder holding them)`,
  );
}

function judgeFolders(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((n) => judgeOf(n) !== undefined && statSync(path.join(root, n)).isDirectory());
}

function judgeOf(folderName: string): string | undefined {
  for (const prefix of [IDEA_PROPOSAL_PREFIX, SUBSET_PREFIX]) {
    if (folderName.startsWith(prefix) && folderName.length > prefix.length) return folderName.slice(prefix.length);
  }
  return undefined;
}

async function listJsonFiles(root: string, relativeDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, relativeDir), { withFileTypes: true })) {
    const relative = `${relativeDir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listJsonFiles(root, relative)));
    else if (entry.name.endsWith('.json')) out.push(relative);
  }
  return out;
}

/** Where a file sits says what was judged, by whom, for which task. */
export interface ReviewFilePlace {
  kind: ReviewKind;
  variant?: string;
  task: string;
  agent: string;
  judge: string;
}

/** The place of `relativePath` (forward slashes, from the reviews folder), or undefined outside the layout. */
export function placeOfReviewFile(relativePath: string): ReviewFilePlace | undefined {
  const parts = relativePath.split('/');
  const judge = judgeOf(parts[0]);
  const stem = parts[parts.length - 1].replace(/\.json$/, '');
  if (!judge || !stem) return undefined;
  if (parts[0].startsWith(IDEA_PROPOSAL_PREFIX) && parts.length === 4 && (parts[2] === 'idea' || parts[2] === 'proposal')) {
    const kind = parts[2];
    return { kind, task: parts[1], agent: stripPrefix(stem, `${kind}_`), judge };
  }
  if (parts[0].startsWith(SUBSET_PREFIX)) {
    if (parts.length === 3 && stem.startsWith('review_') && stem.length > 'review_'.length) {
      const agent = stem.slice('review_'.length);
      if (agent.endsWith(NO_CODE_SUFFIX) && agent.length > NO_CODE_SUFFIX.length) {
        return { kind: 'end_to_end', variant: 'no_code', task: parts[1], agent: agent.slice(0, -NO_CODE_SUFFIX.length), judge };
      }
      return { kind: 'end_to_end', task: parts[1], agent, judge };
    }
    if (parts.length === 4 && parts[2] === 'experiments') return { kind: 'experiment', task: parts[1], agent: stem, judge };
    if (parts.length === 4 && parts[2] === 'paper') return { kind: 'paper', task: parts[1], agent: stem, judge };
  }
  return undefined;
}

function stripPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) && text.length > prefix.length ? text.slice(prefix.length) : text;
}

type ReadOutcome = { record: ReviewRecord } | UnreadableFile;

async function readReviewFile(root: string, relative: string): Promise<ReadOutcome> {
  const place = placeOfReviewFile(relative);
  if (!place) return { source: relative, reason: 'not in the MLR-Bench layout' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.join(root, relative), 'utf8'));
  } catch (err) {
    return { source: relative, reason: `unreadable JSON: ${firstLine((err as Error).message)}` };
  }
  const scored = scoresOf(parsed);
  if (!scored) return { source: relative, reason: 'no numeric scores' };
  const record: ReviewRecord = { ...place, scores: scored.scores, source: relative };
  if (scored.hasHallucination !== undefined) record.hasHallucination = scored.hasHallucination;
  return { record };
}

/**
 * Scores by canonical dimension name. Accepted shapes: `{Dim: {score: 8}}`, `{Dim: {score: "8"}}`
 * and a bare number (`Confidence: 4`); `Hallucination: {has_hallucination}` becomes the flag.
 */
export function scoresOf(review: unknown): { scores: Record<string, number>; hasHallucination?: boolean } | undefined {
  if (!review || typeof review !== 'object' || Array.isArray(review)) return undefined;
  const scores: Record<string, number> = {};
  let hasHallucination: boolean | undefined;
  for (const [key, value] of Object.entries(review)) {
    const name = canonicalDimension(key);
    if (name === 'Hallucination') {
      hasHallucination = truthOf(value && typeof value === 'object' ? (value as Record<string, unknown>).has_hallucination : value);
      continue;
    }
    const score = numberOf(value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>).score : value);
    if (score !== undefined) scores[name] = score;
  }
  if (!Object.keys(scores).length) return undefined;
  return hasHallucination === undefined ? { scores } : { scores, hasHallucination };
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function truthOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

