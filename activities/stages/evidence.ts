/**
 * What the paper stage reads besides the earlier documents (the experiment's figures, log and the
 * verified references), and the provenance check of what it wrote: every number in the paper and
 * in results.md must appear in a file the sandboxed code produced.
 */
import path from 'node:path';
import type { ArtifactRef } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import { checkDocuments, failedCheck, type CheckSource } from '../integrity/check/engine.js';
import type { CheckReport } from '../integrity/check/types.js';

const LOG_EXCERPT_CHARS = 4000;

/** Path of an artifact relative to its run's folder (`runs/<id>/results/a.png` → `results/a.png`). */
export function runRelative(ref: ArtifactRef): string {
  return ref.path.split('/').slice(2).join('/');
}

/** The prompt section listing figures to embed, a log excerpt, and the references the paper may cite. */
export async function paperEvidence(store: ArtifactStore, attachments: ArtifactRef[] = []): Promise<string> {
  const parts: string[] = [];
  const figures = attachments.filter((a) => a.mediaType.startsWith('image/'));
  parts.push(
    figures.length
      ? `# Figures the experiment produced (embed the relevant ones with exactly these paths)\n\n${figures.map((f) => `- ![${path.basename(f.path)}](${runRelative(f)})`).join('\n')}`
      : '# Figures\n\nThe experiment produced no figures: include none.',
  );
  const log = attachments.find((a) => runRelative(a) === 'results/log.txt');
  if (log) {
    const text = await store.getText(log);
    parts.push(`# Experiment log (results/log.txt${text.length > LOG_EXCERPT_CHARS ? ', last part' : ''})\n\n\`\`\`\n${text.slice(-LOG_EXCERPT_CHARS)}\n\`\`\``);
  }
  const references = attachments.find((a) => runRelative(a) === 'references.json');
  if (references) {
    const records = JSON.parse(await store.getText(references)) as Array<{ id: string; title: string; authors?: string[]; year?: number; url?: string }>;
    parts.push(
      records.length
        ? `# References you may cite (found by literature search; cite each as [id](url), cite nothing else)\n\n${records.map((r) => `- ${r.id}: ${r.title}${r.authors?.length ? ` (${r.authors.slice(0, 3).join(', ')}${r.authors.length > 3 ? ' et al.' : ''}` : ' ('}${r.year ? `, ${r.year}` : ''}) ${r.url ?? ''}`).join('\n')}`
        : '# References\n\nThe literature search found no papers: cite none, and say so in Related Work.',
    );
  }
  return parts.join('\n\n---\n\n');
}

/**
 * The integrity check of `documents` against the measured files (the same engine as `lab check`),
 * written as `provenance.json` (every stated number with its role and verdict) into the run's
 * folder. A check that throws is written as `status: "error"` with its reason, and returned, not
 * thrown: a check that cannot run is a finding of the stage, never its failure.
 */
export async function writeProvenance(
  store: ArtifactStore,
  runId: string,
  documents: Record<string, string>,
  sources: ArtifactRef[],
  /** The experiment's other files: its code (settings are looked up there) and files the agent typed. */
  attachments: ArtifactRef[] = [],
): Promise<{ report: CheckReport; ref: ArtifactRef }> {
  let report: CheckReport;
  const read = (as: CheckSource['as']) => async (s: ArtifactRef): Promise<CheckSource> => ({ file: runRelative(s), content: await store.getText(s).catch(() => ''), as });
  try {
    const code = attachments.filter((a) => runRelative(a).startsWith('experiment/code/'));
    const typed = attachments.filter((a) => runRelative(a).startsWith('experiment/typed-by-agent/'));
    const all = [...(await Promise.all(sources.map(read('measured')))), ...(await Promise.all(code.map(read('config')))), ...(await Promise.all(typed.map(read('typed'))))];
    report = checkDocuments({
      documents,
      sources: all,
      notes: code.length ? [] : ['No code of the experiment was at hand: settings could not be compared with it.'],
    });
  } catch (err) {
    report = failedCheck(err, sources.map((s) => ({ file: runRelative(s), as: 'measured' as const, values: 0 })));
  }
  const ref = await store.put(runId, 'provenance.json', `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  return { report, ref };
}
