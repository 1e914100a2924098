/** One CSV (RFC 4180) per report table: every column, numbers with the table's decimals. */
import { cellText, type ReportTable } from '../tables.js';

export function renderCsv(table: ReportTable): string {
  const lines = [table.columns.map((c) => quote(c.key)), ...table.rows.map((row) => row.map((cell, i) => quote(cellText(cell, table.columns[i]))))];
  return lines.map((l) => l.join(',')).join('\r\n') + '\r\n';
}

function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
