/**
 * The integrity check: each number a document states gets a verdict. Result claims must be
 * measured (a value a program wrote, under a key that fits what the sentence names), derived from
 * two measured values, or they are flagged; settings are looked up in the configuration and
 * commands the code recorded; the rest is listed. Values only a typed (laundered) file holds do
 * not count as measured. Pure: callers read the files and decide which are typed.
 */
import { extractClaims } from './claims.js';
import { fitOf, MethodNames, namedBy, words, type Fit } from './keyFit.js';
import { sameNumber, show } from './numbers.js';
import { FLAGGED_VERDICTS, type CheckReport, type Claim, type Finding, type SourceSummary, type SourceValue, type Verdict } from './types.js';
import { ValueIndex, type Entry } from './valueIndex.js';

export interface CheckSource {
  file: string;
  content: string;
  /** measured: written by code; typed: the agent typed its values; config: code and commands (settings only). */
  as: 'measured' | 'typed' | 'config';
  note?: string;
}

export interface CheckInput {
  /** Documents to check, by name (markdown). */
  documents: Record<string, string>;
  sources: CheckSource[];
  notes?: string[];
}

const NEAREST = 3;
/** Values a derivation is looked for among: the measured values other claims of the section matched. */
const MAX_ANCHORS = 400;

interface Indexes {
  measured: ValueIndex;
  typed: ValueIndex;
  config: ValueIndex;
  methods: MethodNames;
}

function buildIndexes(sources: CheckSource[], summaries: SourceSummary[]): Indexes {
  const ix: Indexes = { measured: new ValueIndex(), typed: new ValueIndex(), config: new ValueIndex(), methods: new MethodNames() };
  for (const s of sources) {
    const index = ix[s.as];
    const before = index.size;
    const read = index.add(s.file, s.content, s.as === 'config' ? 'code' : 'data');
    if (!read) continue;
    summaries.push({ file: s.file, as: s.as, values: index.size - before, ...(s.note ? { note: s.note } : {}) });
    if (s.as !== 'config') for (let id = before; id < index.size; id++) ix.methods.addFrom(index.entry(id));
  }
  return ix;
}

const publicValue = (e: Entry): SourceValue => ({ file: e.file, key: e.key, ...(e.row ? { row: e.row } : {}), value: e.value });

/** The best-fitting candidate of an index for a claim: fits over neutral over conflict; series values only when they fit. */
function bestMatch(ix: Indexes, index: ValueIndex, claim: Claim): { entry: Entry; fit: Fit } | undefined {
  const named = namedBy(claim, ix.methods);
  let best: { entry: Entry; fit: Fit } | undefined;
  const rank = { fits: 2, neutral: 1, conflict: 0 } as const;
  for (const id of index.candidates(claim)) {
    const entry = index.entry(id);
    const fit = fitOf(named, entry, ix.methods, (file) => index.keysOf(file));
    if (entry.series && fit !== 'fits') continue;
    if (!best || rank[fit] > rank[best.fit]) best = { entry, fit };
    if (fit === 'fits') break;
  }
  return best;
}

/** A measured value another claim matched: derivations combine two of one measure (same key leaf). */
interface Anchor {
  value: number;
  measure: string;
}

const measureOf = (e: Entry) => e.key.replace(/\s*\((?:first|last|min|max|mean)\)$/, '').split(/[.[\]]+/).filter((x) => x && !/^\d+$/.test(x)).pop()?.toLowerCase() ?? '';

const SPREAD = /(?:^|_|\b)(?:std|stdev|sd|sem|var|variance|ci|stderr|err)(?:$|_|\b)/i;

/** A difference, ratio or relative change of two anchors of one measure that gives the claim. */
function derivation(claim: Claim, anchors: Anchor[]): string | undefined {
  const tol = { ...claim, tolerance: claim.tolerance * 1.5 };
  const shown = (x: number) => (claim.percent && Math.abs(Math.abs(x) * 100 - Math.abs(claim.value)) < Math.abs(Math.abs(x) - Math.abs(claim.value)) ? `${show(x * 100)}%` : show(x));
  for (let i = 0; i < anchors.length; i++) {
    for (let j = 0; j < anchors.length; j++) {
      const { value: a, measure } = anchors[i];
      const b = anchors[j].value;
      // Spreads are not compared: a difference of two standard deviations is no claim.
      if (i === j || a === b || anchors[j].measure !== measure || SPREAD.test(measure)) continue;
      if (i < j && sameNumber(tol, a - b)) return `${show(Math.max(a, b))} - ${show(Math.min(a, b))} = ${shown(Math.abs(a - b))} (${measure})`;
      if (b !== 0 && sameNumber(tol, (a - b) / b)) return `(${show(a)} - ${show(b)}) / ${show(b)} = ${shown((a - b) / b)} (${measure})`;
      if (b !== 0 && Math.abs(a) > Math.abs(b) && sameNumber(tol, a / b)) return `${show(a)} / ${show(b)} = ${shown(a / b)} (${measure})`;
    }
  }
  return undefined;
}

/** The verdict on a result claim. */
function judgeResult(ix: Indexes, claim: Claim, anchors: Anchor[]): Omit<Finding, keyof Claim> {
  const measured = bestMatch(ix, ix.measured, claim);
  if (measured && measured.fit !== 'conflict') {
    return { verdict: measured.fit === 'fits' ? 'supported' : 'weak', match: publicValue(measured.entry) };
  }
  const derived = derivation(claim, anchors);
  if (derived) return { verdict: 'derived', derivation: derived };
  if (measured) return { verdict: 'mismatch', match: publicValue(measured.entry), nearest: nearestOf(ix, claim) };
  const typed = bestMatch(ix, ix.typed, claim);
  if (typed) return { verdict: 'typed', match: publicValue(typed.entry) };
  return { verdict: 'unsupported', nearest: nearestOf(ix, claim) };
}

function nearestOf(ix: Indexes, claim: Claim): SourceValue[] {
  return ix.measured.nearest(claim, NEAREST).map((id) => publicValue(ix.measured.entry(id)));
}

/** The verdict on a setting: in the recorded configuration or outputs, different there, or not recorded. */
function judgeSetting(ix: Indexes, claim: Claim): Omit<Finding, keyof Claim> {
  for (const index of [ix.config, ix.measured, ix.typed]) {
    const found = bestMatch(ix, index, claim);
    if (found && found.fit !== 'conflict') return { verdict: 'setting-recorded', match: publicValue(found.entry) };
  }
  // Differs: a recorded key is named right before the number, with another value.
  const before = words(claim.sentence.slice(Math.max(0, claim.at - 40), claim.at)).slice(-3).join('');
  if (before.length >= 3) {
    for (let id = 0; id < ix.config.size; id++) {
      const e = ix.config.entry(id);
      const key = words(e.key).join('');
      if (key.length >= 3 && before.endsWith(key)) return { verdict: 'setting-differs', match: publicValue(e) };
    }
  }
  return { verdict: 'setting-unrecorded' };
}

/** The sources indexed once, then any number of documents checked against them. */
export class IntegrityChecker {
  private readonly ix: Indexes;
  private readonly summaries: SourceSummary[] = [];

  constructor(
    private readonly sources: CheckSource[],
    private readonly notes: string[] = [],
  ) {
    this.ix = buildIndexes(sources, this.summaries);
  }

  check(documents: Record<string, string>): CheckReport {
    const findings: Finding[] = [];
    for (const [document, text] of Object.entries(documents)) findings.push(...this.checkOne(document, text));
    const counts: Partial<Record<Verdict, number>> = {};
    for (const f of findings) counts[f.verdict] = (counts[f.verdict] ?? 0) + 1;
    const results = findings.filter((f) => f.role === 'result');
    const notes = [...this.notes];
    if (!this.sources.some((s) => s.as === 'measured')) notes.push('No file the code wrote was found: no result claim can be supported.');
    return {
      version: 2,
      status: 'ok',
      checked: findings.length,
      results: results.length,
      counts,
      flagged: results.filter((f) => FLAGGED_VERDICTS.includes(f.verdict)).length,
      findings,
      sources: [...this.summaries],
      notes,
    };
  }

  private checkOne(document: string, text: string): Finding[] {
    const ix = this.ix;
    const claims = extractClaims(text, document);
    // First pass: direct matches, whose values become the anchors of derivations in their section.
    const anchorsBySection = new Map<string, Anchor[]>();
    const direct = claims.map((c) => {
      if (c.role !== 'result') return undefined;
      const m = bestMatch(ix, ix.measured, c);
      if (m && m.fit !== 'conflict') {
        const list = anchorsBySection.get(c.section) ?? [];
        const measure = measureOf(m.entry);
        if (list.length < MAX_ANCHORS) list.push({ value: m.entry.value, measure }, { value: c.percent && Math.abs(c.value) > 1 && Math.abs(m.entry.value) <= 1 ? c.value / 100 : c.value, measure });
        anchorsBySection.set(c.section, list);
      }
      return m;
    });
    return claims.map((c, i) => {
      let judged: Omit<Finding, keyof Claim>;
      if (c.role === 'result') {
        const m = direct[i];
        judged = m && m.fit !== 'conflict' ? { verdict: m.fit === 'fits' ? 'supported' : 'weak', match: publicValue(m.entry) } : judgeResult(ix, c, anchorsBySection.get(c.section) ?? []);
      } else if (c.role === 'setting') judged = judgeSetting(ix, c);
      else judged = { verdict: 'listed' };
      return { ...c, ...judged };
    });
  }
}

/** Checks every document's stated numbers against the sources. */
export function checkDocuments(input: CheckInput): CheckReport {
  return new IntegrityChecker(input.sources, input.notes).check(input.documents);
}

/** The report of a check that could not run: it says so and why; nothing in it reads as "verified". */
export function failedCheck(err: unknown, sources: SourceSummary[] = []): CheckReport {
  const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { version: 2, status: 'error', error: error.slice(0, 500), checked: 0, results: 0, counts: {}, flagged: 0, findings: [], sources, notes: [] };
}
