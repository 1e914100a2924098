/**
 * report.json: the tables exactly as the other formats show them (rounded), and the computed
 * numbers at full precision for anyone who wants to recompute.
 */
import type { ReportData } from '../buildReport.js';
import { PUBLISHED_LABEL, PUBLISHED_SOURCE } from '../published.js';
import { reportMethod, type ReportTable } from '../tables.js';

export function renderJson(report: ReportData, tables: ReportTable[]): string {
  const { judgePairs: _pairsAreInTheirTable, ...data } = report;
  return `${JSON.stringify(
    {
      title: report.title,
      ...(report.state ? { state: report.state } : {}),
      ...(report.calibration ? { calibrated: false, calibration: report.calibration.note } : {}),
      summary: report.summary,
      method: reportMethod(report),
      published: { label: PUBLISHED_LABEL, source: PUBLISHED_SOURCE },
      tables: Object.fromEntries(
        tables.map((t) => [
          t.name,
          { title: t.title, note: t.note, columns: t.columns.map((c) => c.key), rows: t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c.key, r[i]]))) },
        ]),
      ),
      data,
    },
    null,
    2,
  )}\n`;
}
