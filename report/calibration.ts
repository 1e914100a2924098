/**
 * Which judges of a report are not calibrated (embedded models), and how a report says so: one
 * line at its head, `(not calibrated)` after such a judge's name wherever it is shown, and
 * `calibrated: false` with that line in report.json and `lab report --json`. A report whose judges
 * are all provider models carries none of it. Pure.
 */
import { isEmbeddedJudge, UNCALIBRATED_NOTE } from '../common/judgeCalibration.js';
import type { ReviewRecord } from './types.js';

export interface ReportCalibration {
  /** The report's judges that are embedded models, sorted. */
  judges: string[];
  /** The line a reader sees: `<judges>: not calibrated: …`. */
  note: string;
}

/** Undefined when every judge of the records is a provider model. */
export function reportCalibration(records: Pick<ReviewRecord, 'judge'>[]): ReportCalibration | undefined {
  const judges = [...new Set(records.map((r) => r.judge).filter(isEmbeddedJudge))].sort();
  return judges.length ? { judges, note: `${judges.join(', ')}: ${UNCALIBRATED_NOTE}` } : undefined;
}

/** A judge's name as a report shows it: marked when it is not calibrated. */
export function judgeLabel(judge: string, calibration: ReportCalibration | undefined): string {
  return calibration?.judges.includes(judge) ? `${judge} (not calibrated)` : judge;
}
