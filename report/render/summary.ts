/** The report's one-line summary, shared by markdown, HTML and the terminal. */
import type { ReportData } from '../buildReport.js';
import { judgeLabel } from '../calibration.js';
import { KIND_TITLES } from '../tables.js';

export function summaryLine(report: ReportData): string {
  const s = report.summary;
  const parts = [
    `${s.records} judge reviews`,
    `${s.judges.length} judge${s.judges.length === 1 ? '' : 's'} (${s.judges.map((j) => judgeLabel(j, report.calibration)).join(', ') || 'none'})`,
    `kinds: ${s.kinds.map((k) => KIND_TITLES[k]).join(', ') || 'none'}`,
  ];
  if (s.runs) parts.push(`${s.runs} runs`);
  if (s.failures) parts.push(`${s.failures} failed items`);
  if (s.unreadableFiles) parts.push(`${s.unreadableFiles} review file${s.unreadableFiles === 1 ? '' : 's'} skipped (listed below)`);
  return `${parts.join('; ')}.`;
}
