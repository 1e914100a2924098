/**
 * The numbers a document states, each with its role, section, sentence and (in a table) column
 * and row: what the check judges. The reference list, code, links, images and inline code are
 * skipped; integers below 10 (list counts, "5 folds") and years are not claims. Pure.
 */
import { readDocument, tableCells, type DocLine } from './document.js';
import { parseStated, STATED_NUMBER } from './numbers.js';
import { roleOf } from './roles.js';
import type { Claim } from './types.js';

/** Replaces what holds no claim with spaces, keeping every other character where it was. */
function blankNonClaims(line: string): string {
  const blank = (m: string) => ' '.repeat(m.length);
  return line
    .replace(/`[^`]*`/g, blank)
    // An image's alt text may state a result; its path does not.
    .replace(/(!\[[^\]]*\])(\([^)]*\))/g, (_m, alt: string, target: string) => `${alt}${blank(target)}`)
    .replace(/\]\([^)]*\)/g, (m) => `]${' '.repeat(m.length - 1)}`)
    .replace(/https?:\/\/\S+/g, blank)
    .replace(/\b(?:arXiv|DOI|S2|doi\.org)[:/]\S+/gi, blank)
    // Math: "$0.913$", "$91.5\\%$", "$0.95 \\pm 0.01$" are stated numbers; a formula's constants are not.
    .replace(/\$([^$]*)\$/g, (m, inner: string) => (/[=<>]/.test(inner) || /^[\s\d.,\\%pmtimes{}]*$/.test(inner) ? ` ${inner.replace(/\\%/g, '% ').replace(/\\(?:pm|times)/g, '  ')} `.slice(0, m.length).padEnd(m.length) : blank(m)))
    .replace(/<[^>]+>/g, blank);
}

/** The sentence around `at`, and where `at` falls in it. */
function sentenceAround(line: string, at: number): { sentence: string; at: number } {
  // Not at a colon: "Comment ratio: 0.8 vs. 0.6" names its metric before it.
  const boundary = /[.!?](?=\s+[A-Z*(\[])|;(?=\s)/g;
  let start = 0;
  let end = line.length;
  for (const m of line.matchAll(boundary)) {
    const i = m.index!;
    if (i < at) start = i + 1;
    else if (i >= at) {
      end = i + 1;
      break;
    }
  }
  const lead = line.slice(start).length - line.slice(start).trimStart().length;
  return { sentence: line.slice(start + lead, end).trim(), at: at - start - lead };
}

/** Every stated number of `markdown` with its role. */
export function extractClaims(markdown: string, document: string): Claim[] {
  const claims: Claim[] = [];
  for (const line of readDocument(markdown)) {
    if (line.kind === 'code' || line.kind === 'blank' || line.sectionKind === 'references') continue;
    if (line.kind === 'table' && (line.table!.isSeparator || line.table!.isHeader)) continue;
    if (/^\s*>\s*(?:\*\*Durable Lab|Written by model)/.test(line.raw)) continue;
    claims.push(...claimsOfLine(line, document));
  }
  return claims;
}

function claimsOfLine(line: DocLine, document: string): Claim[] {
  const text = blankNonClaims(line.raw);
  const out: Claim[] = [];
  const cells = line.kind === 'table' ? tableCells(line.raw) : undefined;
  for (const m of text.matchAll(STATED_NUMBER)) {
    const parsed = parseStated(m[0]);
    if (!parsed) continue;
    const column = m.index! + (m[0].length - m[0].trimStart().length) + (/^\s*[-−]/.test(m[0]) ? 1 : 0);
    const inTable = line.kind === 'table';
    if (parsed.integer && !parsed.percent && Math.abs(parsed.value) < 10) continue;
    if (parsed.integer && !parsed.percent && !inTable && parsed.value >= 1900 && parsed.value <= 2099) continue;
    // The raw line around it: blanked math still names a parameter ("$\lambda$ from 0.01").
    const before = line.raw.slice(0, m.index!);
    const after = line.raw.slice(m.index! + m[0].length);
    let cell: Claim['cell'];
    let sentence: { sentence: string; at: number };
    let percent = parsed.percent;
    let tableInfo: { column: string; row: string; caption: string; header: string[] } | undefined;
    if (inTable && cells) {
      const index = (text.slice(0, m.index!).match(/\|/g)?.length ?? 1) - (line.raw.trimStart().startsWith('|') ? 1 : 0);
      const header = line.table!.header;
      const columnName = header[index] ?? '';
      const row = cells.find((c) => c && !/^[-−]?[\d.,%\s±()]+$/.test(c)) ?? cells[0] ?? '';
      cell = { column: columnName, row: row.replace(/[*_`]/g, '').trim() };
      tableInfo = { ...cell, caption: line.table!.caption, header };
      percent ||= /%|percent/i.test(columnName);
      sentence = { sentence: line.raw.trim(), at: column - (line.raw.length - line.raw.trimStart().length) };
    } else sentence = sentenceAround(line.raw, column);
    const role = roleOf({
      before,
      after,
      sentence: sentence.sentence,
      sectionKind: line.sectionKind,
      inHeading: line.kind === 'heading',
      cell: tableInfo,
      integer: parsed.integer,
      value: parsed.value,
      percent,
    });
    out.push({
      document,
      line: line.n,
      column,
      text: parsed.text,
      value: parsed.value,
      tolerance: parsed.tolerance,
      percent,
      role: role.role,
      why: role.why,
      section: line.section,
      sentence: sentence.sentence,
      at: sentence.at,
      ...(cell ? { cell } : {}),
    });
  }
  return out;
}
