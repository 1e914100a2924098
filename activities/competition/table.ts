/**
 * The few operations the scorer does on the trusted data files that prepare.py writes: plain CSV
 * with a header, an `id` column and a `target` column, and no quoted fields (refused if present).
 */
import { randomInt } from 'node:crypto';

export interface Table {
  header: string[];
  rows: string[][];
}

export function parseTable(text: string, what = 'table'): Table {
  if (text.includes('"')) throw new Error(`${what}: quoted CSV fields are not supported in competition data`);
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (!lines.length) throw new Error(`${what}: empty`);
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== header.length) throw new Error(`${what}: line ${i + 2} has ${cells.length} fields, the header ${header.length}`);
    return cells;
  });
  return { header, rows };
}

export function formatTable(t: Table): string {
  return [t.header, ...t.rows].map((r) => r.join(',')).join('\n') + '\n';
}

function columnIndex(t: Table, name: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) throw new Error(`no column "${name}" (columns: ${t.header.join(', ')})`);
  return i;
}

export function dropColumn(t: Table, name: string): Table {
  const i = columnIndex(t, name);
  return { header: t.header.filter((_, j) => j !== i), rows: t.rows.map((r) => r.filter((_, j) => j !== i)) };
}

export function pickColumns(t: Table, names: string[]): Table {
  const idx = names.map((n) => columnIndex(t, n));
  return { header: names, rows: t.rows.map((r) => idx.map((i) => r[i]!)) };
}

export function concatTables(a: Table, b: Table): Table {
  if (a.header.join(',') !== b.header.join(',')) throw new Error('cannot join tables with different columns');
  return { header: a.header, rows: [...a.rows, ...b.rows] };
}

export function headRows(t: Table, n: number): Table {
  return { header: t.header, rows: t.rows.slice(0, n) };
}

/** The same rows with the values of `name` shuffled among them (fresh randomness each call): decoy labels. */
export function shuffleColumn(t: Table, name: string): Table {
  const i = columnIndex(t, name);
  const values = t.rows.map((r) => r[i]!);
  for (let k = values.length - 1; k > 0; k--) {
    const j = randomInt(k + 1);
    [values[k], values[j]] = [values[j]!, values[k]!];
  }
  return { header: t.header, rows: t.rows.map((r, k) => r.map((c, j) => (j === i ? values[k]! : c))) };
}
