/**
 * Provenance check: every number a report states must appear in a file the sandboxed code wrote
 * (CSV/JSON/TXT results, logs), allowing for rounding and for fractions written as percentages.
 * Pure functions: the stage activities feed them file contents and write provenance.json.
 */

export interface StatedNumber {
  /** As written, e.g. "95.3%", "0.912", "1,024". */
  text: string;
  value: number;
  /** Digits after the decimal point as written (rounding tolerance). */
  decimals: number;
  percent: boolean;
  line: number;
  /** The line, trimmed and cut, for a person to find it. */
  context: string;
}

export interface ProvenanceReport {
  checked: number;
  matched: number;
  unmatched: Array<Pick<StatedNumber, 'text' | 'line' | 'context'> & { document: string }>;
  /** Files whose numbers counted as measured. */
  sources: string[];
  /** `error`: the check could not run (see `error`); its counts are then not a result, and nothing was verified. */
  status?: 'ok' | 'error';
  error?: string;
}

/**
 * The report of a check that could not run: it says so and why, with no flags that could be
 * read as "every number was found". The stages write it instead of failing.
 */
export function failedProvenance(err: unknown, sources: string[] = []): ProvenanceReport {
  const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { checked: 0, matched: 0, unmatched: [], sources: [...sources], status: 'error', error: error.slice(0, 500) };
}

const NUMBER = /(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?\s?%?(?![\w])/g;

/**
 * Numbers in prose that claim a result. Skipped as not measured: integers below 10 (list counts,
 * "5 folds"), years 1900-2099, numbers inside markdown links/images/code spans, section numbers
 * at a line's start, and citation ids (arXiv:2401.01234).
 */
export function statedNumbers(markdown: string): StatedNumber[] {
  const found: StatedNumber[] = [];
  markdown.split('\n').forEach((raw, i) => {
    if (/^\s*(```|>\s*Written by model)/.test(raw)) return;
    const line = raw
      .replace(/`[^`]*`/g, ' ')
      .replace(/!?\[[^\]]*\]\([^)]*\)/g, (m) => (m.startsWith('!') ? ' ' : m.replace(/\([^)]*\)$/, '')))
      .replace(/\b(?:arXiv|DOI|S2):\S+/gi, ' ')
      .replace(/https?:\/\/\S+/g, ' ')
      .replace(/^\s*#*\s*(\d+\.)+\d*\s/, ' ')
      // Cross-references are not results: "Section 3.2", "Table 1", "Eq. (4)".
      .replace(/\b(?:Sections?|Sec\.|§|Tables?|Figures?|Fig\.|Eq(?:uation)?s?\.?|Appendix|Step|Steps|Algorithm|Line)\s*\(?\d+(?:\.\d+)*\)?/gi, ' ');
    for (const m of line.matchAll(NUMBER)) {
      const text = m[0].trim();
      const percent = text.endsWith('%');
      const digits = text.replace(/[%\s,]/g, '').replace('−', '-');
      const value = Number(digits);
      if (!Number.isFinite(value)) continue;
      const decimals = /\.(\d+)/.exec(digits.split(/e/i)[0])?.[1].length ?? 0;
      const isInteger = decimals === 0 && !/e/i.test(digits);
      if (isInteger && !percent && Math.abs(value) < 10) continue;
      if (isInteger && !percent && value >= 1900 && value <= 2099) continue;
      found.push({ text, value, decimals, percent, line: i + 1, context: raw.trim().slice(0, 160) });
    }
  });
  return found;
}

const MEASURED = /[-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

/** Calls `each` with every number in a data or log file (CSV, JSON, plain text), as written there. */
function eachMeasured(content: string, each: (value: number) => void): void {
  const re = new RegExp(MEASURED);
  for (let m = re.exec(content); m; m = re.exec(content)) {
    const v = Number(m[0].charCodeAt(0) === 0x2212 ? `-${m[0].slice(1)}` : m[0]);
    if (Number.isFinite(v)) each(v);
  }
}

/** Every number in a data or log file (CSV, JSON, plain text), as written there. */
export function measuredNumbers(content: string): number[] {
  const values: number[] = [];
  eachMeasured(content, (v) => values.push(v));
  return values;
}

/** True if `stated` is `measured` as written with the stated precision (or as a percentage of it). */
export function matches(stated: StatedNumber, measured: number): boolean {
  const candidates = stated.percent ? [measured, measured * 100] : [measured, measured * 100, measured / 100];
  // Half a unit in the last written digit, plus a hair for binary floating point.
  const tolerance = 0.5 * 10 ** -stated.decimals + 1e-9;
  return candidates.some((c) => Math.abs(Math.abs(c) - Math.abs(stated.value)) <= tolerance && Math.sign(c) * Math.sign(stated.value) >= 0);
}

/** The scale factors under which a stated number may be a measured one (see {@link matches}). */
const factorsOf = (stated: StatedNumber) => (stated.percent ? [1, 100] : [1, 100, 0.01]);

/**
 * The measured values of a run's files, sorted once, searched by bisection: a stated number is
 * looked up in the few narrow ranges of values it could be written from (one per scale factor),
 * and only the values there are tested with {@link matches}, so the answer is the one a scan of
 * every value would give. Scales to millions of values (no spread of large arrays anywhere).
 */
export class MeasuredIndex {
  private pending: number[] = [];
  private sorted = new Float64Array(0);
  readonly sources: string[] = [];

  add(source: string, content: string): void {
    this.sources.push(source);
    const pending = this.pending;
    eachMeasured(content, (v) => pending.push(v));
  }

  /** How many numbers the sources hold. */
  get size(): number {
    return this.sorted.length + this.pending.length;
  }

  /** Sorts what was added since the last query (once, however many sources came in between). */
  private values(): Float64Array {
    if (this.pending.length) {
      const all = new Float64Array(this.sorted.length + this.pending.length);
      all.set(this.sorted);
      for (let i = 0; i < this.pending.length; i++) all[this.sorted.length + i] = this.pending[i];
      this.pending = [];
      this.sorted = all.sort();
    }
    return this.sorted;
  }

  has(stated: StatedNumber): boolean {
    const values = this.values();
    const size = Math.abs(stated.value);
    const tolerance = 0.5 * 10 ** -stated.decimals + 1e-9;
    for (const factor of factorsOf(stated)) {
      // |factor * m| within tolerance of |stated|, and m of the stated sign (or either, for 0).
      let lo = Math.max(0, (size - tolerance) / factor);
      let hi = (size + tolerance) / factor;
      // Widened a little so rounding here never loses a value `matches` accepts; it decides.
      const slack = hi * 1e-9 + Number.MIN_VALUE;
      lo = Math.max(0, lo - slack);
      hi += slack;
      const ranges: Array<[number, number]> = stated.value > 0 ? [[lo, hi]] : stated.value < 0 ? [[-hi, -lo]] : [[-hi, hi]];
      for (const [from, to] of ranges) {
        for (let i = lowerBound(values, from); i < values.length && values[i] <= to; i++) {
          if (matches(stated, values[i])) return true;
        }
      }
    }
    return false;
  }
}

/** The first index whose value is at least `x` (values sorted ascending). */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Checks each document's stated numbers against what the sandbox produced. */
export function checkProvenance(documents: Record<string, string>, measured: MeasuredIndex): ProvenanceReport {
  const report: ProvenanceReport = { checked: 0, matched: 0, unmatched: [], sources: [...measured.sources], status: 'ok' };
  for (const [document, text] of Object.entries(documents)) {
    for (const n of statedNumbers(text)) {
      report.checked++;
      if (measured.has(n)) report.matched++;
      else report.unmatched.push({ document, text: n.text, line: n.line, context: n.context });
    }
  }
  return report;
}
