/**
 * The integrity check's vocabulary: the numbers a document states (claims, with their role), the
 * values the experiment's files hold (with file and key), and the verdict on each claim.
 * Shared by the paper stage, `lab check`, `lab status` and the judge's evidence.
 */

/** What a stated number is for. Only `result` claims need a measured source. */
export type ClaimRole = 'result' | 'setting' | 'quoted' | 'crossref' | 'future' | 'context';

export interface Claim {
  document: string;
  /** 1-based line in the document. */
  line: number;
  /** 0-based offset of the number in that line. */
  column: number;
  /** As written, without a leading sign: "95.3%", "0.912", "1,024", "2e-5". */
  text: string;
  value: number;
  /** Half a unit in the last written digit: how far a measured value may be from `value`. */
  tolerance: number;
  /** Written with %, or in a table column whose header says %. */
  percent: boolean;
  role: ClaimRole;
  /** Why it got its role (a reader checks the classifier with it). */
  why: string;
  /** The heading it sits under ("Abstract", "4.2 Results"). */
  section: string;
  /** The sentence or table row, with the number at `at` (a reader sees it marked). */
  sentence: string;
  at: number;
  /** A table cell: its column header and the row's label. */
  cell?: { column: string; row: string };
}

/** A value a source file holds, with where it is. */
export interface SourceValue {
  file: string;
  /** CSV column, JSON key path, or the label a command printed before the value. */
  key: string;
  /** CSV row label or the name of the JSON record around the value. */
  row?: string;
  value: number;
}

export type Verdict =
  /** A measured value with a key that fits what the sentence or table names. */
  | 'supported'
  /** A measured value; nothing in the sentence names a metric or method to compare with its key. */
  | 'weak'
  /** A difference, ratio or relative change of two measured values. */
  | 'derived'
  /** The value is measured only under keys that name another metric or method. */
  | 'mismatch'
  /** The value appears only in a file the agent typed (laundered), not one code measured. */
  | 'typed'
  /** No measured value, typed file or derivation gives it. */
  | 'unsupported'
  /** Settings: found in the configuration or arguments the code recorded; differs from them; not recorded. */
  | 'setting-recorded'
  | 'setting-differs'
  | 'setting-unrecorded'
  /** Quoted figures, cross-references, future work, context: listed, not checked. */
  | 'listed';

/** Verdicts that flag a result claim as not backed by a measurement. */
export const FLAGGED_VERDICTS: readonly Verdict[] = ['unsupported', 'mismatch', 'typed'];

export interface Finding extends Claim {
  verdict: Verdict;
  /** The value that supports it (or the one under the wrong key, for `mismatch`). */
  match?: SourceValue;
  /** For `derived`: how, e.g. "(0.912 - 0.85) / 0.85 = 7.3%". */
  derivation?: string;
  /** Why a verdict that needs saying was given ("0.913 is a literal in the code that wrote results/m.json"). */
  note?: string;
  /** For flags: the measured values closest to it, so a reader sees what the paper might have meant. */
  nearest?: SourceValue[];
}

export interface SourceSummary {
  file: string;
  /** measured: written by code; typed: its values were typed by the agent; config: settings only. */
  as: 'measured' | 'typed' | 'config';
  values: number;
  /** Why a file counts as typed, or why it was not read. */
  note?: string;
}

export interface CheckReport {
  version: 2;
  /** `error`: the check could not run; nothing was verified and the counts are no result. */
  status: 'ok' | 'error';
  error?: string;
  /** Stated numbers examined, and how many of them are result claims. */
  checked: number;
  results: number;
  counts: Partial<Record<Verdict, number>>;
  /** Result claims flagged (unsupported, mismatch, typed). */
  flagged: number;
  findings: Finding[];
  sources: SourceSummary[];
  /** Said when something limited the check (no transcript to tell typed files, a source left out). */
  notes: string[];
}
