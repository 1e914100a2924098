/**
 * Reads the values a result file holds, each with its key: CSV/TSV cells with their column and
 * row label, JSON leaves with their key path, markdown tables, and numbers a program printed
 * next to a label ("accuracy: 0.912", a printed table). Nothing else in logs counts: timestamps,
 * line numbers, versions, paths and progress bars are not measurements. Pure.
 */
import { parseMeasured } from './numbers.js';

/** One value: its key (column, key path, printed label), its row label, and the record it belongs to. */
export interface Emitted {
  value: number;
  key: string;
  row?: string;
  /** Values of one CSV row, JSON object or printed line share a group (derived values are looked for within it). */
  group: number;
  /** An element of a long numeric array (a per-step series): counts only when the claim names its key. */
  series?: boolean;
}
export type Emit = (e: Emitted) => void;

const NUMERIC_CELL = /^[-−+]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*%?$/;
/** Arrays longer than this are series: their elements count only under a fitting key. */
const SERIES_LENGTH = 12;

let groups = 0;
const nextGroup = () => ++groups;

/** Splits one CSV line, honouring double quotes. */
function csvCells(line: string, sep: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) cells.push(cur), (cur = '');
    else cur += ch;
  }
  cells.push(cur);
  return cells.map((c) => c.trim());
}

const isNumeric = (c: string) => NUMERIC_CELL.test(c.trim());
const cellValue = (c: string) => parseMeasured(c.trim().replace(/\s*%$/, ''));

/** Rows of cells with a header: each numeric cell under its column, labelled by the row's first text cell. */
function emitTable(rows: string[][], emit: Emit): void {
  if (!rows.length) return;
  const headerIsText = rows[0].some((c) => c && !isNumeric(c));
  const header = headerIsText ? rows[0] : rows[0].map((_, i) => `column ${i + 1}`);
  for (const cells of headerIsText ? rows.slice(1) : rows) {
    const label = cells.filter((c) => c && !isNumeric(c)).join(' ');
    const group = nextGroup();
    cells.forEach((c, i) => {
      if (!isNumeric(c)) return;
      const v = cellValue(c);
      if (v !== undefined) emit({ value: v, key: header[i] || `column ${i + 1}`, row: label || undefined, group });
    });
  }
}

export function parseCsv(content: string, emit: Emit, sep = ','): void {
  const rows = content.split(/\r?\n/).filter((l) => l.trim()).map((l) => csvCells(l, sep));
  emitTable(rows, emit);
}

/** Python writes NaN and Infinity into JSON; they are no values but must not stop the parse. */
function lenientJson(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return JSON.parse(content.replace(/(?<=[:,\[]\s*)(?:-?Infinity|NaN)(?=\s*[,\]}])/g, 'null'));
  }
}

/** The name of a record in an array of records ("method": "baseline"), to label its values' row. */
const NAME_KEYS = ['name', 'method', 'model', 'system', 'approach', 'baseline', 'algorithm', 'config', 'variant', 'setting', 'scenario', 'task', 'dataset', 'label', 'id', 'type'];

export function parseJson(content: string, emit: Emit): boolean {
  let root: unknown;
  try {
    root = lenientJson(content);
  } catch {
    return false;
  }
  const walk = (node: unknown, keyPath: string, row: string | undefined, group: number, inSeries: boolean) => {
    if (typeof node === 'number') {
      if (Number.isFinite(node)) emit({ value: node, key: keyPath, row, group, ...(inSeries ? { series: true } : {}) });
    } else if (typeof node === 'string') {
      if (isNumeric(node)) {
        const v = cellValue(node);
        if (v !== undefined) emit({ value: v, key: keyPath, row, group });
      }
    } else if (Array.isArray(node)) {
      const series = node.length > SERIES_LENGTH && node.every((x) => typeof x === 'number' || x === null);
      if (series) summarise(node as Array<number | null>, keyPath, row, emit);
      const g = nextGroup();
      // A series' elements share one key: a million steps are one measure, not a million names.
      node.forEach((x, i) => walk(x, series ? `${keyPath}[*]` : `${keyPath}[${i}]`, row, g, series || inSeries));
    } else if (node && typeof node === 'object') {
      const rec = node as Record<string, unknown>;
      const nameKey = NAME_KEYS.find((k) => typeof rec[k] === 'string');
      const name = nameKey ? (rec[nameKey] as string) : row;
      const g = nextGroup();
      for (const [k, v] of Object.entries(rec)) walk(v, keyPath ? `${keyPath}.${k}` : k, name, g, inSeries);
    }
  };
  walk(root, '', undefined, nextGroup(), false);
  return true;
}

/** A series is represented by what papers quote of it: first, last, best and mean. */
function summarise(values: Array<number | null>, key: string, row: string | undefined, emit: Emit): void {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!xs.length) return;
  const group = nextGroup();
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) (min = Math.min(min, x)), (max = Math.max(max, x));
  for (const [what, value] of [['first', xs[0]], ['last', xs[xs.length - 1]], ['min', min], ['max', max], ['mean', mean]] as const) {
    emit({ value, key: `${key} (${what})`, row, group });
  }
}

/** Words that, as a label, name no measurement. */
const NOT_A_LABEL = /^(?:line|lines|file|version|v|python|step|epoch|iteration|iter|batch|pid|port|id|seed|time|date|at|on|in|of|to|from|page|row|col|column|index|\d+)$/i;
const LABELLED = /(["']?)([A-Za-z][A-Za-z0-9_ ()\-/@.]{0,60}?)\1\s*(?::|=|→|->)\s*([-−]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)(\s*%)?(?![\w.:/-])/g;

/** Blanks what in a printed line is no measurement: timestamps, versions, paths, line numbers, progress bars. */
function blankNoise(line: string): string {
  const blank = (m: string) => ' '.repeat(m.length);
  return line
    .replace(/\d{4}-\d{2}-\d{2}[T ]?(?:\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, blank)
    .replace(/\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\b/g, blank)
    .replace(/\b(?:v|version\s*)?\d+\.\d+\.\d+(?:[.-]\w+)*\b/gi, blank)
    .replace(/[<>=!~]=\s*\d+(?:\.\d+)*/g, blank)
    .replace(/(?:[\w.-]*\/)+[\w.-]+/g, blank)
    .replace(/\bline \d+/gi, blank)
    .replace(/\d+%\|[^|]*\|.*$/g, blank)
    .replace(/\b0x[0-9a-f]+\b/gi, blank);
}

/** Labelled numbers and printed tables in a log or a command's output. */
export function parseText(content: string, emit: Emit): void {
  const lines = content.split(/\r?\n/);
  let header: string[] | undefined;
  for (const raw of lines) {
    if (/^\s*(?:Traceback|File ")/.test(raw)) continue;
    const line = blankNoise(raw);
    const group = nextGroup();
    let labelled = false;
    for (const m of line.matchAll(LABELLED)) {
      const label = m[2].trim().replace(/\s+/g, ' ');
      if (NOT_A_LABEL.test(label) || /^\d/.test(label)) continue;
      const v = parseMeasured(m[3]);
      if (v === undefined) continue;
      labelled = true;
      emit({ value: v, key: label, group });
    }
    if (labelled) {
      header = undefined;
      continue;
    }
    // A printed table (pandas, tabulate): a header of words, then rows of a label and numbers.
    const tokens = line.trim().split(/\s{2,}|\t|\s*\|\s*/).filter(Boolean);
    if (tokens.length >= 2 && tokens.every((t) => !isNumeric(t))) {
      header = tokens;
      continue;
    }
    if (!header) continue;
    const numbers = tokens.filter(isNumeric);
    if (!numbers.length || tokens.length > header.length + 2) {
      if (!tokens.length) header = undefined;
      continue;
    }
    const label = tokens.filter((t) => !isNumeric(t)).join(' ');
    const cols = header.slice(-numbers.length);
    numbers.forEach((t, i) => {
      const v = cellValue(t);
      if (v !== undefined) emit({ value: v, key: cols[i] ?? `column ${i + 1}`, row: label || undefined, group });
    });
  }
}

/** A markdown file a program wrote: its tables, and labelled values in its text. */
export function parseMarkdownData(content: string, emit: Emit): void {
  const lines = content.split(/\r?\n/);
  let rows: string[][] = [];
  const text: string[] = [];
  const flush = () => {
    if (rows.length) emitTable(rows.filter((r) => !r.every((c) => /^:?-{2,}:?$/.test(c) || !c)), emit);
    rows = [];
  };
  for (const l of lines) {
    if (/^\s*\|.*\|\s*$/.test(l)) rows.push(l.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim().replace(/[*_`]/g, '')));
    else {
      flush();
      text.push(l.replace(/[*_`]/g, ''));
    }
  }
  flush();
  parseText(text.join('\n'), emit);
}

/** Reads a file by its name: which parser, or none (not a data file). */
export function parseSource(file: string, content: string, emit: Emit): 'read' | 'not-data' {
  const name = file.toLowerCase();
  if (name.endsWith('.csv')) parseCsv(content, emit);
  else if (name.endsWith('.tsv')) parseCsv(content, emit, '\t');
  else if (name.endsWith('.json')) {
    if (!parseJson(content, emit)) parseText(content, emit);
  } else if (name.endsWith('.jsonl')) {
    for (const l of content.split('\n')) if (l.trim() && !parseJson(l, emit)) parseText(l, emit);
  } else if (/\.(md|markdown)$/.test(name)) parseMarkdownData(content, emit);
  else if (/\.(txt|log|out|err|stdout|stderr)$/.test(name) || !/\.\w+$/.test(name)) parseText(content, emit);
  else return 'not-data';
  return 'read';
}

/** Settings in code and commands: assignments, keyword arguments, dict entries and `--flag value`. */
export function parseCode(content: string, emit: Emit): void {
  parseText(content.replace(/#.*$/gm, ''), emit);
  for (const m of content.matchAll(/--([A-Za-z][\w-]*)(?:\s+|=)([-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])/g)) {
    const v = parseMeasured(m[2]);
    if (v !== undefined) emit({ value: v, key: m[1], group: nextGroup() });
  }
}
