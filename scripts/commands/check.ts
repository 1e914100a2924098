/**
 * `lab check <folder>`: the integrity check on any paper folder (a Durable Lab run folder,
 * MLR-Bench's or AI Scientist's output, or any folder with a paper.md beside its results): every
 * number the paper states gets a verdict against the files the code wrote, and the citations are
 * looked up as the paper stage does. Writes check.json and check.md; needs no Temporal server.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EMPTY_CITATION_REPORT, type Citation } from '../../common/citations.js';
import { parseCitations, parseReferencesJson } from '../../activities/integrity/citations.js';
import { checkDocuments, failedCheck } from '../../activities/integrity/check/engine.js';
import { readPaperFolder, type PaperFolder } from '../../activities/integrity/check/folder.js';
import { renderCheckMarkdown, renderCheckSummary, type CitationSummary } from '../../activities/integrity/check/render.js';
import type { CheckReport } from '../../activities/integrity/check/types.js';
import { createBackends, createLiteratureActivities } from '../../activities/literature/index.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag, required } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { nonEmptyText } from '../lib/options.js';
import { print, printJson } from '../lib/output.js';

/** Exit code when result claims are flagged (unsupported, mismatch, typed). */
export const EXIT_FLAGGED = EXIT.flagged;

/** How long the literature backends get to answer one cheap request before the citations are left unchecked. */
const PREFLIGHT_MS = 15_000;

/** What a Durable Lab run folder keeps of the literature search: titles for works cited by id alone. */
const REFERENCE_FILES = ['literature/references.json', 'references.json'];

export const checkCommand = defineCommand({
  summary: 'check a paper folder offline of any run: each stated number against the files its code wrote, and its citations',
  usage:
    'lab check <folder> [--out DIR] [--json] [--offline]\n' +
    '  <folder>     a Durable Lab run folder, an MLR-Bench or AI Scientist output folder, or any folder with\n' +
    '               paper.md (or results/paper.md, report.md, a LaTeX paper) beside the files its code wrote\n' +
    '  --out DIR    where check.json and check.md are written (default <folder>/lab-check/)\n' +
    '  --json       print the report (check.json) to stdout instead of the summary\n' +
    '  --offline    do not look the citations up (they are reported as not checked)\n' +
    'Citations are looked up on arXiv / Semantic Scholar / OpenAlex (LAB_LITERATURE_BACKENDS); when none answers,\n' +
    'the report says they were not checked. No Temporal server is needed.\n' +
    'Exit 0 no result claim flagged, 5 result claims flagged (unsupported, mismatch or typed), 1 the folder or\n' +
    '--out cannot be read or written, or the check could not run, 2 bad usage.',
  options: { out: { type: 'string' }, json: { type: 'boolean' }, offline: { type: 'boolean' } },
  positionals: ['folder'],
  schema: z.object({
    folder: required('missing folder: lab check <folder>', nonEmptyText('the folder')),
    out: flag(nonEmptyText('--out')),
    json: booleanFlag,
    offline: booleanFlag,
  }),
  async run({ folder, out, json, offline }) {
    let paper: PaperFolder;
    try {
      paper = await readPaperFolder(folder);
    } catch (err) {
      throw new CliError(firstLine(err), EXIT.error);
    }
    let report: CheckReport;
    try {
      report = checkDocuments(paper);
    } catch (err) {
      report = failedCheck(err);
    }
    const citations = await checkCitations(paper, { offline, tellProgress: !json && !!process.stderr.isTTY });
    const outDir = path.resolve(out ?? path.join(paper.root, 'lab-check'));
    const shownOut = out ?? outDir;
    const jsonPath = path.join(outDir, 'check.json');
    const mdPath = path.join(outDir, 'check.md');
    const body = { ...report, folder: paper.root, layout: paper.layout, documents: Object.keys(paper.documents), citations };
    try {
      await fs.mkdir(outDir, { recursive: true });
      await fs.writeFile(jsonPath, `${JSON.stringify(body, null, 2)}\n`);
      await fs.writeFile(mdPath, renderCheckMarkdown(report, { folder: paper.root, layout: paper.layout, documents: Object.keys(paper.documents), citations }));
    } catch (err) {
      throw new CliError(`--out ${shownOut}: cannot write the report there (${firstLine(err)})`, EXIT.error);
    }
    if (json) printJson(body);
    else {
      print(`lab check: ${paper.root} (${paper.layout}; paper: ${Object.keys(paper.documents).join(', ')})`);
      print(renderCheckSummary(report, { citations, markdownPath: mdPath }));
      print(`wrote ${mdPath} and check.json`);
    }
    if (report.status === 'error') return EXIT.error;
    return report.flagged > 0 ? EXIT_FLAGGED : EXIT.ok;
  },
});

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n').find((l) => l.trim()) ?? 'unknown error').trim();
}

async function referencesOf(root: string): Promise<Array<{ id: string; title: string }>> {
  for (const name of REFERENCE_FILES) {
    const text = await fs.readFile(path.join(root, name), 'utf8').catch(() => undefined);
    if (text !== undefined) return parseReferencesJson(text);
  }
  return [];
}

/**
 * The paper's citations, looked up as the paper stage looks them up (`resolveCitations`), unless
 * `--offline`, the backends are off or misconfigured, or none answers: then they are reported as
 * not checked, with the reason, and none counts as verified.
 */
export async function checkCitations(paper: PaperFolder, o: { offline: boolean; tellProgress?: boolean; env?: NodeJS.ProcessEnv }): Promise<CitationSummary> {
  const env = o.env ?? process.env;
  let citations: Citation[];
  try {
    const references = await referencesOf(paper.root);
    citations = Object.values(paper.documents).flatMap((text) => parseCitations(text, references));
  } catch (err) {
    return { status: 'not-checked', reason: `the citations could not be read: ${firstLine(err)}`, found: 0, withId: 0 };
  }
  const found = citations.length;
  const withId = citations.filter((c) => c.id).length;
  const notChecked = (reason: string): CitationSummary => ({ status: 'not-checked', reason, found, withId });
  if (!found) return notChecked('the paper cites no work that could be found (no reference list, no paper ids or links)');
  if (o.offline) return notChecked('--offline');
  let backends;
  try {
    // The model's web search resolves no id, and each of its requests is paid: not used here.
    backends = createBackends(env).filter((b) => b.name !== 'web_search');
  } catch (err) {
    return notChecked(`the literature settings are invalid: ${firstLine(err)}`);
  }
  if (!backends.length) return notChecked(`no literature backend is enabled (LAB_LITERATURE_BACKENDS=${env.LAB_LITERATURE_BACKENDS ?? ''})`);
  const literature = createLiteratureActivities({ env, backends });
  try {
    if (withId) {
      if (o.tellProgress) process.stderr.write(`looking up ${withId} cited ids on ${backends.map((b) => b.describe()).join(', ')} (--offline skips this)…\n`);
      const down = await Promise.race([
        literature.literaturePreflight(),
        new Promise<string[]>((resolve) => setTimeout(() => resolve([`no answer within ${PREFLIGHT_MS / 1000} s`]), PREFLIGHT_MS).unref()),
      ]);
      if (down.length >= backends.length || down.some((d) => d.startsWith('no answer within'))) {
        // "arXiv (https://…) did not answer: cannot reach https://…: host not found" → "arXiv: host not found".
        const short = down.map((d) => d.replace(/\s*\(https?:[^)]*\) did not answer:\s*/, ': ').replace(/cannot reach \S+: /, ''));
        return notChecked(`no literature backend answered: ${short.join('; ')}`);
      }
    }
    const report = await literature.resolveCitations({ citations: citations.slice(0, 500), giveUpAfterAttempts: 1 });
    return { status: 'checked', found, withId, report: report ?? EMPTY_CITATION_REPORT };
  } catch (err) {
    return notChecked(`the look-up failed: ${firstLine(err)}`);
  }
}
