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

/** Every number in a data or log file (CSV, JSON, plain text), as written there. */
export function measuredNumbers(content: string): number[] {
  const values: number[] = [];
  for (const m of content.matchAll(/[-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g)) {
    const v = Number(m[0].replace('−', '-'));
    if (Number.isFinite(v)) values.push(v);
  }
  return values;
}

/** True if `stated` is `measured` as written with the stated precision (or as a percentage of it). */
export function matches(stated: StatedNumber, measured: number): boolean {
  const candidates = stated.percent ? [measured, measured * 100] : [measured, measured * 100, measured / 100];
  // Half a unit in the last written digit, plus a hair for binary floating point.
  const tolerance = 0.5 * 10 ** -stated.decimals + 1e-9;
  return candidates.some((c) => Math.abs(Math.abs(c) - Math.abs(stated.value)) <= tolerance && Math.sign(c) * Math.sign(stated.value) >= 0);
}

export class MeasuredIndex {
  private readonly values: number[] = [];
  readonly sources: string[] = [];

  add(source: string, content: string): void {
    this.sources.push(source);
    this.values.push(...measuredNumbers(content));
  }

  has(stated: StatedNumber): boolean {
    return this.values.some((v) => matches(stated, v));
  }
}

/** Checks each document's stated numbers against what the sandbox produced. */
export function checkProvenance(documents: Record<string, string>, measured: MeasuredIndex): ProvenanceReport {
  const report: ProvenanceReport = { checked: 0, matched: 0, unmatched: [], sources: [...measured.sources] };
  for (const [document, text] of Object.entries(documents)) {
    for (const n of statedNumbers(text)) {
      report.checked++;
      if (measured.has(n)) report.matched++;
      else report.unmatched.push({ document, text: n.text, line: n.line, context: n.context });
    }
  }
  return report;
}
