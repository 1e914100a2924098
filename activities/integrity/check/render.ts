/**
 * The integrity check's report for people: `check.md` (every checked number in its sentence, with
 * the verdict and what backs it or what was measured nearby) and the terminal summary `lab check`
 * prints. Pure: the command reads the folder, runs the check and writes the files.
 */
import type { CitationReport } from '../../../common/citations.js';
import { show } from './numbers.js';
import { FLAGGED_VERDICTS, type CheckReport, type ClaimRole, type Finding, type SourceValue, type Verdict } from './types.js';

/** What became of the paper's citations: looked up on the literature backends, or not (and why). */
export interface CitationSummary {
  /** `checked`: the cited ids were looked up; `not-checked`: nothing was looked up (`reason` says why). */
  status: 'checked' | 'not-checked';
  reason?: string;
  /** Cited works the paper lists or links (with or without an id), and how many carry an id. */
  found: number;
  withId: number;
  /** The look-up's report, when `checked`. */
  report?: CitationReport;
}

export interface RenderOptions {
  folder: string;
  layout: string;
  /** The paper's documents, by name (default: those the findings name). */
  documents?: string[];
  citations?: CitationSummary;
}

/** Verdicts in the order a reader wants them: the flags first, then what backs a claim, then the rest. */
const VERDICT_ORDER: Verdict[] = ['unsupported', 'mismatch', 'typed', 'setting-differs', 'supported', 'derived', 'weak', 'setting-recorded', 'setting-unrecorded', 'listed'];

/** A verdict in words. */
const VERDICT_WORDS: Record<Verdict, string> = {
  unsupported: 'unsupported: no measured value, typed file or derivation gives this number',
  mismatch: 'mismatch: the value is measured, but only under a key that names another metric or method',
  typed: 'typed: the value is only in a file the agent typed, not one its code wrote',
  'setting-differs': 'setting differs from the value the code recorded',
  supported: 'supported: measured, under a key that fits what the sentence names',
  derived: 'derived: a difference, ratio or relative change of measured values',
  weak: 'measured, but the sentence names no metric or method to confirm the key',
  'setting-recorded': 'setting found in the recorded code, configuration or commands',
  'setting-unrecorded': 'setting not found in the recorded code, configuration or commands',
  listed: 'listed, not checked',
};

/** The short form of a verdict (summary lines, table). */
const VERDICT_SHORT: Record<Verdict, string> = {
  unsupported: 'no measured value gives it',
  mismatch: 'measured under another metric or method',
  typed: 'only in a file the agent typed',
  'setting-differs': 'setting differs from the recorded one',
  supported: 'measured, key fits',
  derived: 'computed from measured values',
  weak: 'measured, key not confirmed',
  'setting-recorded': 'setting recorded by the code',
  'setting-unrecorded': 'setting not recorded',
  listed: 'quoted, cross-reference, future work or context: not checked',
};

const ROLE_WORDS: Record<ClaimRole, string> = {
  result: 'result',
  setting: 'setting',
  quoted: 'quoted figure',
  crossref: 'cross-reference',
  future: 'future work',
  context: 'context',
};

const ROLE_PLURAL: Record<ClaimRole, string> = {
  result: 'results',
  setting: 'settings',
  quoted: 'quoted figures',
  crossref: 'cross-references',
  future: 'future-work numbers',
  context: 'context numbers',
};

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

export const isFlagged = (f: Finding) => f.role === 'result' && FLAGGED_VERDICTS.includes(f.verdict);

/** Which file a key is in decides what to call it: a CSV column, a JSON key, a label a program printed. */
function keyWord(file: string, row?: string): string {
  if (/\.(csv|tsv)$/i.test(file) || (row && /\.(md|markdown)$/i.test(file))) return 'column';
  if (/\.(json|jsonl)$/i.test(file)) return 'key';
  if (/^transcript:|\.(py|sh|ya?ml|toml|cfg|ini)$/i.test(file)) return 'name';
  return 'label';
}

/** `results/metrics.csv, column accuracy, row baseline: 0.9123`. */
export function describeValue(v: SourceValue): string {
  const key = v.key ? `, ${keyWord(v.file, v.row)} ${v.key}` : '';
  const row = v.row ? `, row ${v.row}` : '';
  return `${v.file}${key}${row}: ${show(v.value)}`;
}

/** Where the stated number sits in its sentence: [start, end). */
function numberSpan(f: Finding): [number, number] {
  const s = f.sentence;
  if (f.at >= 0 && s.startsWith(f.text, f.at)) return [f.at, f.at + f.text.length];
  const spaced = f.text.replace(/%$/, ' %');
  if (f.at >= 0 && s.startsWith(spaced, f.at)) return [f.at, f.at + spaced.length];
  const i = s.indexOf(f.text);
  if (i >= 0) return [i, i + f.text.length];
  return [Math.max(0, Math.min(f.at, s.length)), Math.max(0, Math.min(f.at, s.length))];
}

/**
 * The sentence with the number marked (`open` number `close`), cut to about `width` characters
 * around it (… where cut), on one line.
 */
export function markedSentence(f: Finding, o: { open: string; close: string; width?: number }): string {
  const s = f.sentence;
  const [start, end] = numberSpan(f);
  const number = end > start ? s.slice(start, end) : f.text;
  let before = s.slice(0, start);
  let after = s.slice(end);
  const width = o.width ?? Infinity;
  const room = Math.max(0, width - number.length);
  if (before.length + after.length > room) {
    let left = Math.min(before.length, Math.ceil(room * 0.45));
    let right = Math.min(after.length, room - left);
    left = Math.min(before.length, room - right);
    if (left < before.length) before = `…${before.slice(before.length - left).replace(/^\S*\s/, '')}`;
    if (right < after.length) after = `${after.slice(0, right).replace(/\s\S*$/, '')}…`;
  }
  return `${before}${o.open}${number}${o.close}${after}`.replace(/\s+/g, ' ').trim();
}

/** The section kinds a reader audits first: the abstract, then where results are stated. */
const ABSTRACT = /\babstract\b|\btl;?dr\b/i;
const RESULTS = /\bresults?\b|\bevaluation\b|\bexperiments?\b|\bperformance\b|\bablations?\b|\bfindings\b|\banalysis\b|\bcomparison\b/i;

interface Group {
  document: string;
  section: string;
  findings: Finding[];
  rank: number;
  order: number;
}

/** Findings by document section, abstract first, then results sections, then the rest (each in document order). */
export function groupBySection(findings: Finding[]): Group[] {
  const groups = new Map<string, Group>();
  for (const f of findings) {
    const key = `${f.document}\u0000${f.section}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { document: f.document, section: f.section, findings: [], rank: 3, order: groups.size }));
    g.findings.push(f);
  }
  // "4.2.1 Time to Solution" is a results section when "4.2 Results" is.
  const numberOf = (section: string) => /^\s*(\d+(?:\.\d+)*)\.?\s/.exec(section)?.[1];
  const resultNumbers = [...groups.values()].filter((g) => RESULTS.test(g.section)).map((g) => numberOf(g.section)).filter((n): n is string => !!n);
  for (const g of groups.values()) {
    const n = numberOf(g.section);
    if (ABSTRACT.test(g.section)) g.rank = 0;
    else if (RESULTS.test(g.section) || (n && resultNumbers.some((r) => n.startsWith(`${r}.`)))) g.rank = 1;
    else if (g.findings.some((f) => f.role === 'result')) g.rank = 2;
    else g.rank = 3;
  }
  return [...groups.values()].sort((a, b) => a.rank - b.rank || a.order - b.order);
}

const findingRank = (f: Finding) => (isFlagged(f) ? 0 : f.role === 'result' ? 1 : f.verdict === 'setting-differs' ? 2 : 3);

/** A prose number, or a table row with its checked cells. */
type Unit = { kind: 'prose'; finding: Finding } | { kind: 'row'; cells: Finding[] };

const unitRank = (u: Unit) => (u.kind === 'prose' ? findingRank(u.finding) : Math.min(...u.cells.map(findingRank)));
const unitLine = (u: Unit) => (u.kind === 'prose' ? u.finding.line : u.cells[0].line);

/**
 * Within a section: what is flagged first, then the other results, then settings; each in line
 * order. A table row is one unit (its cells listed under it). Listed numbers are left out.
 */
function checkedUnits(findings: Finding[]): Unit[] {
  const units: Unit[] = [];
  const rows = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.verdict === 'listed') continue;
    if (!f.cell) {
      units.push({ kind: 'prose', finding: f });
      continue;
    }
    const key = `${f.document}:${f.line}`;
    let cells = rows.get(key);
    if (!cells) {
      rows.set(key, (cells = []));
      units.push({ kind: 'row', cells });
    }
    cells.push(f);
  }
  for (const u of units) if (u.kind === 'row') u.cells.sort((a, b) => a.column - b.column);
  return units.sort((a, b) => unitRank(a) - unitRank(b) || unitLine(a) - unitLine(b) || (a.kind === 'prose' && b.kind === 'prose' ? a.finding.column - b.finding.column : 0));
}

function quoteLine(text: string): string {
  // A sentence is quoted on one line; a leading `#` or `|` would read as a heading or a table.
  return `> ${text.replace(/^([#>|])/, '\\$1')}`;
}

/** What backs a finding, or for a flag what was measured nearby. */
function evidenceLines(f: Finding, typedNotes: Map<string, string>): string[] {
  const out: string[] = [];
  if (f.derivation) out.push(`computed: ${f.derivation}`);
  if (f.note) out.push(f.note);
  if (f.match) {
    switch (f.verdict) {
      case 'mismatch':
        out.push(`measured under another name: ${describeValue(f.match)}`);
        break;
      case 'typed': {
        out.push(`typed value: ${describeValue(f.match)}${f.note ? '' : ` (${typedNotes.has(f.match.file) ? 'a file the agent typed: why, under “What was checked against”' : 'a file the agent typed'})`}`);
        break;
      }
      case 'setting-differs':
        out.push(`recorded: ${describeValue(f.match)}`);
        break;
      case 'setting-recorded':
        out.push(`recorded: ${describeValue(f.match)}`);
        break;
      default:
        out.push(`measured: ${describeValue(f.match)}`);
    }
  }
  if (isFlagged(f) || f.verdict === 'mismatch') {
    const nearest = [...new Set((f.nearest ?? []).map(describeValue))].filter((n) => !f.match || n !== describeValue(f.match));
    if (nearest.length) out.push(`nearest measured values: ${nearest.join('; ')}`);
    else if (f.verdict !== 'typed') out.push('nearest measured values: none close');
  }
  return out;
}

function truncate(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function findingMarkdown(f: Finding, typedNotes: Map<string, string>): string[] {
  const flag = isFlagged(f) || f.verdict === 'setting-differs';
  const head = `- ${flag ? '**⚠ ' : ''}${f.text}${flag ? '**' : ''} (line ${f.line}) · ${ROLE_WORDS[f.role]} (${f.why}) · ${flag ? `**${VERDICT_WORDS[f.verdict]}**` : VERDICT_WORDS[f.verdict]}`;
  // A setting the code recorded needs no reading of its sentence: one line.
  if (f.verdict === 'setting-recorded') return [`${head}: ${evidenceLines(f, typedNotes).join('; ')}`];
  const lines = [head, `  ${quoteLine(markedSentence(f, { open: '**⟦', close: '⟧**', width: 400 }))}`];
  for (const e of evidenceLines(f, typedNotes)) lines.push(`  - ${e}`);
  return lines;
}

/** A table row once, then each checked cell: column, number, verdict, and what backs it. */
function rowMarkdown(cells: Finding[], typedNotes: Map<string, string>): string[] {
  const first = cells[0];
  const flags = cells.filter((c) => isFlagged(c) || c.verdict === 'setting-differs').length;
  const verdicts = new Map<Verdict, number>();
  for (const c of cells) verdicts.set(c.verdict, (verdicts.get(c.verdict) ?? 0) + 1);
  const tally = [...verdicts].sort((a, b) => VERDICT_ORDER.indexOf(a[0]) - VERDICT_ORDER.indexOf(b[0])).map(([v, n]) => `${n} ${v}`).join(', ');
  // The row's label as written (the cell's `row` is normalised for matching).
  const label = first.sentence.split('|').map((c) => c.trim()).find(Boolean) ?? first.cell?.row;
  const row = label ? `table row “${truncate(label, 60)}”` : 'table row';
  const lines = [`- ${flags ? '**⚠ ' : ''}${row}${flags ? '**' : ''} (line ${first.line}) · ${ROLE_WORDS[first.role]} (${first.why}) · ${tally}`];
  lines.push(`  > \`${first.sentence.replace(/`/g, "'").replace(/\s+/g, ' ').trim()}\``);
  for (const c of cells) {
    const flag = isFlagged(c) || c.verdict === 'setting-differs';
    const column = c.cell?.column ? `${c.cell.column}: ` : '';
    const evidence = evidenceLines(c, typedNotes);
    const verdict = flag ? `**${VERDICT_WORDS[c.verdict]}**` : c.verdict;
    lines.push(`  - ${column}${flag ? '**⚠ ⟦' : '**⟦'}${c.text}${'⟧**'} · ${c.role === first.role ? '' : `${ROLE_WORDS[c.role]} · `}${verdict}${!flag && evidence.length === 1 ? ` · ${evidence[0]}` : ''}`);
    if (flag || evidence.length !== 1) for (const e of evidence) lines.push(`    - ${e}`);
  }
  return lines;
}

function countsTable(report: CheckReport): string[] {
  const rows = VERDICT_ORDER.filter((v) => report.counts[v]).map((v) => `| ${v} | ${report.counts[v]} | ${VERDICT_SHORT[v]} |`);
  return ['| verdict | numbers | meaning |', '|---|---:|---|', ...rows];
}

function listedByRole(findings: Finding[]): string {
  const byRole = new Map<ClaimRole, number>();
  for (const f of findings) if (f.verdict === 'listed') byRole.set(f.role, (byRole.get(f.role) ?? 0) + 1);
  return [...byRole].map(([r, n]) => plural(n, ROLE_WORDS[r], ROLE_PLURAL[r])).join(', ');
}

/** What became of the citations, in one sentence that never calls an unchecked citation verified. */
export function citationLine(c: CitationSummary | undefined): string {
  if (!c) return 'citations: not checked.';
  const found = `${plural(c.found, 'cited work')} found (${c.withId} with an id)`;
  if (c.status === 'not-checked' || !c.report) return `citations: NOT checked (${c.reason ?? 'no reason recorded'}); ${found}; none was verified.`;
  const r = c.report;
  const reasons = new Map<string, number>();
  for (const f of r.flagged) reasons.set(f.reason, (reasons.get(f.reason) ?? 0) + 1);
  const flagged = r.flagged.length ? ` (${[...reasons].map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`).join(', ')})` : '';
  return `citations: ${r.verified} of ${r.checked} verified, ${r.flagged.length} flagged${flagged}.`;
}

function citationMarkdown(c: CitationSummary | undefined): string[] {
  const lines = ['## Citations', '', citationLine(c)];
  if (c?.status === 'checked' && c.report) {
    lines.push('', 'Each cited id was looked up on arXiv / Semantic Scholar / OpenAlex and the title compared with the record’s.');
    const offline = c.report.flagged.filter((f) => f.reason === 'unverifiable_offline').length;
    if (offline) lines.push(`${plural(offline, 'citation')} could not be looked up (no backend that knows the id answered): not verified, not refuted.`);
    if (c.report.flagged.length) lines.push('');
    for (const f of c.report.flagged) {
      lines.push(`- **${f.reason.replace(/_/g, ' ')}**: ${f.id ?? '(no id)'}${f.title ? ` “${truncate(f.title, 160)}”` : ''}${f.detail ? ` — ${truncate(f.detail, 240)}` : ''}`);
    }
  }
  return lines;
}

/** `check.md`: what was checked, against what, and each number's verdict, for a researcher auditing the paper. */
export function renderCheckMarkdown(report: CheckReport, o: RenderOptions): string {
  const out: string[] = [`# Integrity check: ${o.folder}`, ''];
  const documents = o.documents ?? [...new Set(report.findings.map((f) => f.document))];
  out.push(`Paper: ${documents.length ? documents.map((d) => `\`${d}\``).join(', ') : '(none)'} · layout: ${o.layout}`, '');
  if (report.status === 'error') {
    out.push(`**The check could not run: ${report.error ?? 'unknown error'}.** No number was checked; nothing in this report is verified.`, '');
    out.push(...citationMarkdown(o.citations), '');
    return `${out.join('\n').trimEnd()}\n`;
  }
  const results = report.findings.filter((f) => f.role === 'result');
  const flagged = results.filter(isFlagged);
  const flagCounts = FLAGGED_VERDICTS.map((v) => [v, flagged.filter((f) => f.verdict === v).length] as const).filter(([, n]) => n);
  out.push(
    report.results
      ? `**${plural(report.results, 'result claim')}, ${report.flagged} flagged**${flagCounts.length ? ` (${flagCounts.map(([v, n]) => `${n} ${v}`).join(', ')})` : ''}, among ${plural(report.checked, 'stated number')}.`
      : `**No result claim found** among ${plural(report.checked, 'stated number')}.`,
    '',
  );
  out.push(
    'A result claim must be a value the experiment’s code wrote (supported, weak) or computed from such values (derived); ' +
      'it is flagged when no measured value gives it (unsupported), when it is measured only under another metric or method (mismatch), ' +
      'or when only a file the agent typed holds it (typed). Numbers are marked **⟦like this⟧** in their sentence.',
    '',
  );
  out.push(...countsTable(report), '');
  if (report.notes.length) {
    out.push('## What could not be checked', '');
    for (const n of report.notes) out.push(`- ${n}`);
    out.push('');
  }

  out.push('## What was checked against', '');
  const measured = report.sources.filter((s) => s.as === 'measured');
  const typed = report.sources.filter((s) => s.as === 'typed');
  const config = report.sources.filter((s) => s.as === 'config');
  out.push(measured.length ? `- measured (written by code): ${measured.map((s) => `\`${s.file}\` (${plural(s.values, 'value')})`).join(', ')}` : '- measured (written by code): **none found**');
  for (const s of typed) out.push(`- typed by the agent: \`${s.file}\` (${plural(s.values, 'value')})${s.note ? `: ${truncate(s.note, 240)}` : ''}`);
  if (config.length) out.push(`- settings from code and commands: ${config.map((s) => `\`${s.file}\``).join(', ')}`);
  out.push('');
  out.push(...citationMarkdown(o.citations), '');

  const typedNotes = new Map(report.sources.filter((s) => s.as === 'typed' && s.note).map((s) => [s.file, s.note!]));
  out.push('## Findings by section', '');
  if (documents.length > 1) out.push(`Sections of ${documents.length} documents; each heading names its document.`, '');
  const groups = groupBySection(report.findings);
  let shown = 0;
  for (const g of groups) {
    const units = checkedUnits(g.findings);
    if (!units.length) continue;
    const checked = g.findings.filter((f) => f.verdict !== 'listed');
    shown++;
    const gFlags = checked.filter(isFlagged).length;
    const listed = listedByRole(g.findings);
    const title = `${g.section || '(before the first heading)'}${documents.length > 1 ? ` — ${g.document}` : ''}`;
    out.push(`### ${title}`, '');
    const gResults = checked.filter((f) => f.role === 'result').length;
    const gSettings = checked.filter((f) => f.role === 'setting').length;
    const parts = [gResults ? `${plural(gResults, 'result claim')} (${gFlags} flagged)` : '', gSettings ? plural(gSettings, 'setting') : ''].filter(Boolean);
    out.push(`${parts.join(', ')}${listed ? `; also ${listed} (listed, not checked)` : ''}.`, '');
    for (const u of units) out.push(...(u.kind === 'prose' ? findingMarkdown(u.finding, typedNotes) : rowMarkdown(u.cells, typedNotes)));
    out.push('');
  }
  if (!shown) out.push('No result claim or setting was found in the paper.', '');

  const listed = report.findings.filter((f) => f.verdict === 'listed');
  if (listed.length) {
    out.push('## Listed numbers (not checked)', '', `${listedByRole(report.findings)}. They need no measured source; a reader may still check the quoted ones against the work they quote.`, '');
    for (const role of ['quoted', 'context', 'future', 'crossref'] as ClaimRole[]) {
      const of = listed.filter((f) => f.role === role).sort((a, b) => a.line - b.line || a.column - b.column);
      if (of.length) out.push(`- ${ROLE_PLURAL[role]}: ${of.map((f) => `${f.text} (line ${f.line})`).join(', ')}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export interface SummaryOptions {
  citations?: CitationSummary;
  /** Flagged result claims listed before "and N more" (default 20). */
  limit?: number;
  /** Where check.md is, for "and N more: see …". */
  markdownPath?: string;
}

/** The terminal summary: counts by verdict, then the flagged result claims (capped). */
export function renderCheckSummary(report: CheckReport, o: SummaryOptions = {}): string {
  const out: string[] = [];
  if (report.status === 'error') {
    out.push(`the check could not run: ${report.error ?? 'unknown error'}`, 'no number was checked; nothing is verified');
    out.push(citationLine(o.citations));
    return out.join('\n');
  }
  out.push(
    report.results
      ? `${plural(report.checked, 'number')} checked, ${plural(report.results, 'result claim')}: ${report.flagged} flagged`
      : `${plural(report.checked, 'number')} checked, no result claim found`,
  );
  const width = Math.max(...VERDICT_ORDER.map((v) => v.length));
  for (const v of VERDICT_ORDER) {
    const n = report.counts[v];
    if (n) out.push(`  ${v.padEnd(width)} ${String(n).padStart(4)}  ${VERDICT_SHORT[v]}`);
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  out.push(citationLine(o.citations));
  const flagged = report.findings.filter(isFlagged);
  if (flagged.length) {
    const limit = o.limit ?? 20;
    out.push('', 'flagged result claims:');
    const lineWidth = Math.max(...flagged.slice(0, limit).map((f) => String(f.line).length)) + 1;
    for (const f of flagged.slice(0, limit)) {
      const evidence =
        f.verdict === 'typed' && f.match
          ? `typed in ${f.match.file} (${f.match.key})`
          : f.verdict === 'mismatch' && f.match
            ? `measured as ${f.match.key}${f.match.row ? ` (${f.match.row})` : ''}`
            : f.nearest?.length
              ? `nearest ${show(f.nearest[0].value)} (${f.nearest[0].file}, ${f.nearest[0].key})`
              : 'nothing measured near it';
      out.push(`  L${String(f.line).padEnd(lineWidth)} ${f.text.padEnd(8)} ${f.verdict.padEnd(11)} ${markedSentence(f, { open: '⟦', close: '⟧', width: 70 })}`);
      out.push(`  ${' '.repeat(lineWidth + 1)} ${' '.repeat(8)} ${' '.repeat(11)} ↳ ${truncate(evidence, 90)}`);
    }
    if (flagged.length > limit) out.push(`  and ${flagged.length - limit} more: see ${o.markdownPath ?? 'check.md'}`);
  }
  return out.join('\n');
}
