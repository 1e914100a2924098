/**
 * What the run page shows besides the stage documents: the run's file list (figures are shown
 * only when the run has them), the citation check's reports, and the CSV files under `results/`
 * (read here, shown as tables). Each part that cannot be read says why; the page still renders.
 */
import type { ArtifactStore, RunFile } from '../../activities/artifacts.js';
import { citationReports, type CitationReports } from './citations.js';

/** A CSV file larger than this is listed with a link, not read into the page. */
export const MAX_CSV_BYTES_ON_PAGE = 2 * 1024 * 1024;
/** CSV files shown as tables, at most (the rest are listed). */
const MAX_CSV_TABLES = 20;

export interface CsvArtifact {
  name: string;
  bytes: number;
  /** Absent when the file is too large for the page, beyond MAX_CSV_TABLES, or unreadable. */
  text?: string;
  error?: string;
}

export interface RunArtifacts {
  files: RunFile[];
  /** Why the run's files could not be listed (figures then show as not found). */
  listError?: string;
  citations: CitationReports;
  citationsError?: string;
  csv: CsvArtifact[];
}

export const NO_RUN_ARTIFACTS: RunArtifacts = { files: [], citations: [], csv: [] };

export async function loadRunArtifacts(store: ArtifactStore, runId: string): Promise<RunArtifacts> {
  // Listed once: the citation reports and the CSV tables are found in the same listing.
  const listed = await store.listRun(runId).then(
    (files) => ({ files }),
    (err: Error) => ({ files: [] as RunFile[], error: err.message.split('\n')[0] }),
  );
  const citations = await citationReports(store, runId, listed.files);
  const csvFiles = listed.files.filter((f) => /^results\/.+\.csv$/i.test(f.name));
  const csv = await Promise.all(
    csvFiles.map(async (f, i): Promise<CsvArtifact> => {
      if (f.bytes > MAX_CSV_BYTES_ON_PAGE || i >= MAX_CSV_TABLES) return { name: f.name, bytes: f.bytes };
      try {
        const body = await store.readRunFile(runId, f.name);
        return body ? { name: f.name, bytes: f.bytes, text: body.toString('utf8') } : { name: f.name, bytes: f.bytes, error: 'it is gone' };
      } catch (err) {
        return { name: f.name, bytes: f.bytes, error: (err as Error).message.split('\n')[0] };
      }
    }),
  );
  return {
    files: listed.files,
    ...('error' in listed ? { listError: listed.error } : {}),
    citations: citations.reports,
    ...(citations.error ? { citationsError: citations.error } : {}),
    csv,
  };
}
