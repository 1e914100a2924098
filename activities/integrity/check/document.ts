/**
 * A markdown document as the claim extractor needs it: each line with the section it sits in
 * (and what kind of section that is), tables with their header, code fences and the reference
 * list marked so their numbers are not read as claims. Pure.
 */

export type SectionKind = 'abstract' | 'results' | 'setup' | 'method' | 'intro' | 'related' | 'future' | 'references' | 'other';

export interface DocLine {
  n: number;
  raw: string;
  kind: 'heading' | 'table' | 'text' | 'code' | 'blank';
  /** The innermost heading's text, numbering included ("4.2 Results"). */
  section: string;
  sectionKind: SectionKind;
  /** For table lines: the header cells and the caption line just above, if any. */
  table?: { header: string[]; caption: string; isHeader: boolean; isSeparator: boolean };
}

/** Ordered: the first kind whose words a heading has wins ("Experimental Setup" is setup, not results). */
const SECTION_WORDS: Array<[SectionKind, RegExp]> = [
  // Durable Lab's own appended sections are no part of the paper's claims.
  ['references', /^(references?|bibliography|works cited|citations|integrity check \(durable lab\)|provenance check: could not run|citation check|commands run|files not collected|typed, not measured|not counted as results)$/i],
  ['abstract', /^(abstract|tl;?dr)$/i],
  ['future', /future|limitation|broader impact|outlook|ethic|societal/i],
  ['related', /related work|literature|prior work|background|previous work/i],
  ['intro', /introduction|motivation/i],
  ['setup', /setup|set-up|implementation details?|hyper-?parameters?|configuration|training details?|^data ?sets?\b|datasets? and|^baselines?$|baselines? and|evaluation metrics|^metrics$|experimental design|protocol|environment|systems evaluated|^(?:experimental )?settings?$/i],
  ['results', /result|experiment|evaluation|analys|ablation|discussion|conclusion|finding|performance|comparison|case stud|appendix|summary|benchmark/i],
  ['method', /method|approach|framework|architecture|model|design|algorithm|formulation|preliminar|problem|system|proposed|overview|definition/i],
];

/** The kind of a heading's own words, or undefined when they say nothing. */
export function sectionKindOf(heading: string): SectionKind | undefined {
  const words = heading
    .replace(/[*_`#]/g, '')
    .replace(/^\s*(?:[A-Z]\.|\d+(?:\.\d+)*\.?)\s*/, '')
    .trim();
  for (const [kind, re] of SECTION_WORDS) if (re.test(words)) return kind;
  return undefined;
}

/** Cells of a markdown table row, outer pipes dropped. */
export function tableCells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split('|').map((c) => c.trim());
}

/** Splits a document into classified lines. */
export function readDocument(markdown: string): DocLine[] {
  const lines = markdown.split('\n');
  const out: DocLine[] = [];
  // Open headings by level: a section's kind is its own words' kind, else its parent's.
  const open: Array<{ level: number; text: string; kind: SectionKind }> = [];
  let inCode = false;
  let table: DocLine['table'] | undefined;
  let lastText = '';
  lines.forEach((raw, i) => {
    const top = open[open.length - 1];
    const section = top?.text ?? '';
    const sectionKind: SectionKind = top?.kind ?? 'other';
    const base = { n: i + 1, raw, section, sectionKind };
    if (/^\s*(```|~~~)/.test(raw)) {
      inCode = !inCode;
      out.push({ ...base, kind: 'code' });
      return;
    }
    if (inCode) return void out.push({ ...base, kind: 'code' });
    const heading = /^(#{1,6})\s+(.*)$/.exec(raw) ?? (/^\*\*(abstract|references)\*\*:?\s*$/i.exec(raw) ? [raw, '##', raw.replace(/\*/g, '')] : null);
    if (heading) {
      const level = heading[1].length;
      while (open.length && open[open.length - 1].level >= level) open.pop();
      const text = heading[2].trim();
      const parent = open[open.length - 1]?.kind;
      const own = sectionKindOf(text);
      // The title names the method, not a section; "Model Choice" under Results is still results.
      const kind = level === 1 && !own ? 'other' : level === 1 && own === 'method' ? 'other' : own && !(own === 'method' && parent && parent !== 'other') ? own : (parent ?? 'other');
      open.push({ level, text, kind });
      table = undefined;
      out.push({ ...base, section: text, sectionKind: kind, kind: 'heading' });
      return;
    }
    if (/^\s*\|.*\|\s*$/.test(raw)) {
      const isSeparator = /^\s*\|?\s*:?-{2,}/.test(raw) && /^[\s|:-]+$/.test(raw);
      if (!table) table = { header: tableCells(raw), caption: lastText, isHeader: true, isSeparator: false };
      else table = { ...table, isHeader: false, isSeparator };
      out.push({ ...base, kind: 'table', table });
      return;
    }
    table = undefined;
    if (!raw.trim()) return void out.push({ ...base, kind: 'blank' });
    lastText = raw.trim();
    out.push({ ...base, kind: 'text' });
  });
  return out;
}
