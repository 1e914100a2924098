/**
 * The end of the experiment: copy what the code wrote into the artifact store and build
 * `results/results.md` and `results/log.txt` from it. Tables are copied from the result files,
 * never written by a model; with no result files the experiment is `failed_experiment`.
 * Runs on the `sandbox` queue, where the workspace is.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExperimentEnd, LostHost } from '../../common/experiment.js';
import type { EnvAction, Observation } from '../../common/environment.js';
import type { ArtifactRef } from '../../common/schemas.js';
import { isPlainArtifactName, plainArtifactName, type ArtifactStore } from '../artifacts.js';
import { workspaceRoot } from '../config.js';
import { printable, walkTree, WalkReport, type SkippedEntry } from '../fsWalk.js';
import { failedCheck, IntegrityChecker, type CheckSource } from '../integrity/check/engine.js';
import { checkCounts } from '../integrity/check/summary.js';
import { FLAGGED_VERDICTS, type CheckReport } from '../integrity/check/types.js';
import { typedFiles, writesFromLabTranscript } from '../integrity/check/writers.js';
import { appendPending } from './agent.js';
import { examplesRun } from './exampleCopy.js';
import { parseTranscript, type StepRecord } from './transcript.js';

export interface CollectResultsInput {
  runId: string;
  step: number;
  transcript?: ArtifactRef;
  pending?: { thought?: string; action: EnvAction; observation: Observation };
  end: ExperimentEnd;
  /** The agent's own closing words (model-written: kept apart and provenance-checked). */
  summary?: string;
  /** Competition runs are judged by the scorer on the hidden split, not by files in results/. */
  brief?: 'research' | 'competition';
  /** Sandbox hosts the experiment lost before this workspace (it started over after each). */
  hostsLost?: LostHost[];
}

export interface ExperimentResults {
  status: 'succeeded' | 'failed_experiment';
  reason?: string;
  results: ArtifactRef;
  log: ArtifactRef;
  transcript?: ArtifactRef;
  /** Result data, figures and code, as stored, and `experiment/collected.json` (which file is stored under which name, what was left out). */
  files: ArtifactRef[];
  /** Files whose numbers count as measured (result data and raw command outputs). */
  measured: ArtifactRef[];
  /** With `status: 'error'` and its reason when the check could not run (the counts are then no result). */
  provenance: { checked: number; matched: number; unmatched: number; status?: 'ok' | 'error'; error?: string; counts?: Record<string, number> };
  steps: number;
  commands: number;
  /** Files of the workspace left out (unreadable, too large, over a limit, past the listing's bound); listed in `experiment/collected.json`. */
  skipped?: number;
}

const DATA = /\.(csv|tsv|json|txt)$/i;
const FIGURE = /\.(png|svg|jpe?g)$/i;
const CODE = /\.(py|sh|ipynb|ya?ml|toml|cfg|r|jl)$/i;
/** Files above this are not copied (a model checkpoint is not a result table). */
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const MAX_TABLE_ROWS = 50;
/** Result data and figures copied at most, then code files: a workspace of a million files is not copied whole (nor put in history). */
const MAX_RESULT_FILES = 200;
const MAX_CODE_FILES = 100;
const MAX_COLLECTED_BYTES = 200 * 1024 * 1024;
/** Names read at most and time spent listing, for results/ and for the rest of the workspace each. */
const COLLECT_MAX_ENTRIES = 100_000;
const COLLECT_TIME_LIMIT_MS = 10_000;
/** Names of one folder read at most: a huge data folder does not hide the code beside it. */
const COLLECT_MAX_PER_FOLDER = 10_000;
/** Names the collector writes itself: a result file with one of them is stored under another. */
const RESERVED = ['results/results.md', 'results/log.txt', 'experiment/collected.json'];

type CollectedAs = 'result' | 'figure' | 'code' | 'typed-by-agent';

/** One line of `experiment/collected.json`: a workspace file and the artifact it was stored as. */
export interface CollectedFile {
  /** In the workspace, as the code named it. */
  path: string;
  /** The artifact's name in the run's folder (differs from `path` when that name cannot be stored as is). */
  stored: string;
  as: CollectedAs;
  bytes: number;
  sha256: string;
}

export function createResultsActivities({ store }: { store: ArtifactStore }) {
  return {
    async collectExperimentResults(input: CollectResultsInput): Promise<ExperimentResults> {
      const transcript = await appendPending(store, { ...input, step: input.step + 1 });
      const records = transcript ? parseTranscript(await store.getText(transcript)) : [];
      const workspace = path.join(workspaceRoot(), input.runId);
      // Only what a command wrote counts as measured; a file the agent typed with write_file is not a result.
      const writtenByCode = new Set(
        records.filter((r) => r.action.action === 'run').flatMap((r) => r.observation.filesChanged.filter((f) => f.change !== 'deleted').map((f) => f.path)),
      );
      const found = await findCandidates(workspace, writtenByCode);
      const { report: collection } = found;
      const typedByAgent: string[] = [];

      const files: ArtifactRef[] = [];
      const measured: ArtifactRef[] = [];
      const tables: string[] = [];
      const figures: Array<{ path: string; stored: string }> = [];
      const collected: CollectedFile[] = [];
      // The integrity check's sources: what commands wrote (results, outputs); typed ones apart.
      const checkSources: CheckSource[] = [];
      const indexed = (source: string, content: string) => checkSources.push({ file: source, content, as: 'measured' });
      let checker: IntegrityChecker | undefined;
      let provenanceError: unknown;
      // A check that cannot run is reported in results.md and the stage's checks; it never fails the run.
      const check = (documents: Record<string, string>): CheckReport => {
        try {
          if (provenanceError !== undefined) throw provenanceError;
          checker ??= new IntegrityChecker(checkSources);
          return checker.check(documents);
        } catch (err) {
          provenanceError ??= err ?? new Error('the integrity check failed');
          return failedCheck(provenanceError, checkSources.map((c) => ({ file: c.file, as: c.as, values: 0 })));
        }
      };
      // Laundering: a result file whose values the command or script that wrote it holds as literals.
      const writeLog = writesFromLabTranscript(records);
      const typedByCode: Array<{ file: string; why: string }> = [];
      let bytesLeft = MAX_COLLECTED_BYTES;
      for (const c of found.candidates) {
        // A bad file is left out and said so; it never fails the run.
        const read = await readCandidate(c.full, Math.min(MAX_FILE_BYTES, bytesLeft));
        if (typeof read === 'string') {
          if (read !== 'gone') collection.skip(c.rel, read);
          continue;
        }
        bytesLeft -= read.length;
        const text = c.as === 'result' ? read.toString('utf8') : undefined;
        let ref: ArtifactRef;
        try {
          ref = await store.put(input.runId, c.stored, text ?? read, c.as === 'code' ? 'text/plain' : mediaTypeOf(c.rel));
        } catch (err) {
          collection.skip(c.rel, `could not be stored: ${(err as Error).message}`);
          continue;
        }
        files.push(ref);
        collected.push({ path: c.rel, stored: c.stored, as: c.as, bytes: ref.bytes, sha256: ref.sha256 });
        const renamed = c.stored !== c.rel ? ` (stored as \`${c.stored}\`)` : '';
        if (c.as === 'typed-by-agent') typedByAgent.push(c.rel);
        else if (c.as === 'result') {
          const typed = typedFiles(writeLog, { [c.rel]: text! })[0];
          if (typed) {
            typedByCode.push(typed);
            checkSources.push({ file: c.stored, content: text!, as: 'typed', note: typed.why });
          } else {
            measured.push(ref);
            indexed(c.stored, text!);
          }
          tables.push(renderDataFile(printable(c.rel), text!).replace(/\n/, `${renamed}\n`));
        } else if (c.as === 'figure') figures.push({ path: c.rel, stored: c.stored });
      }
      const skipped: SkippedEntry[] = collection.skipped;
      const manifest = {
        note: collection.note('the collection'),
        files: collected,
        ...(collection.skippedCount ? { skipped, skippedCount: collection.skippedCount } : {}),
        ...(collection.truncated ? { truncated: collection.truncated } : {}),
        ...(collection.partialCount ? { partial: collection.partial, partialCount: collection.partialCount } : {}),
      };
      files.push(await store.put(input.runId, 'experiment/collected.json', `${JSON.stringify(manifest, null, 2)}\n`, 'application/json'));
      for (const r of records) {
        if (r.observation.output) {
          measured.push(r.observation.output);
          indexed(r.observation.output.path, await store.getText(r.observation.output).catch(() => ''));
        }
      }

      // One table per result data file a command wrote.
      const status: ExperimentResults['status'] = tables.length > 0 ? 'succeeded' : 'failed_experiment';
      const reason = status === 'succeeded' ? undefined : noResultsReason(records, input.end);
      const summaryReport = input.summary ? check({ summary: input.summary }) : undefined;
      const probe = summaryReport ?? check({});
      const provenanceFailure = probe.status === 'error' ? probe.error : undefined;
      const resultsMd = renderResults({ input, records, status, reason, tables, figures, summaryReport, typedByAgent, typedByCode, collection, provenanceFailure });
      const results = await store.put(input.runId, 'results/results.md', resultsMd);
      const log = await store.put(input.runId, 'results/log.txt', renderLog(records), 'text/plain');
      const report = check({ 'results.md': resultsMd });
      return {
        status,
        reason,
        results,
        log,
        transcript,
        files,
        measured,
        provenance: checkCounts(report),
        steps: records.length,
        commands: records.filter((r) => r.action.action === 'run').length,
        ...(collection.note() ? { skipped: collection.skippedCount } : {}),
      };
    },
  };
}

export type ResultsActivities = ReturnType<typeof createResultsActivities>;

interface Candidate {
  rel: string;
  full: string;
  as: CollectedAs;
  /** Its artifact name: `rel` (with a folder in front for code and typed files) or, where that cannot be stored, a plain name made from it. */
  stored: string;
}

const ignored = (name: string) => name.startsWith('.') || name === '__pycache__' || name === 'node_modules';

/**
 * The files to collect: results/ first (its data and figures), then the code elsewhere, each
 * listing bounded in names and time. Nothing is opened here; what could not be listed, and
 * what is over a limit, is in the report.
 */
async function findCandidates(workspace: string, writtenByCode: Set<string>): Promise<{ candidates: Candidate[]; report: WalkReport }> {
  const report = new WalkReport();
  const results: Candidate[] = [];
  const code: Candidate[] = [];
  const under = (prefix: string, p: string) => (p === '.' ? prefix.slice(0, -1) || '.' : prefix + p);
  const merge = (walk: WalkReport, prefix: string) => {
    for (const s of walk.skipped) report.skip(under(prefix, s.path), s.reason);
    report.skippedCount += walk.skippedCount - walk.skipped.length;
    report.entriesRead += walk.entriesRead;
    report.truncated ||= walk.truncated;
    report.partial.push(...walk.partial.map((p) => under(prefix, p)).slice(0, 100 - report.partial.length));
    report.partialCount += walk.partialCount;
  };
  const limits = { maxEntries: COLLECT_MAX_ENTRIES, maxPerFolder: COLLECT_MAX_PER_FOLDER, timeLimitMs: COLLECT_TIME_LIMIT_MS };
  const resultsDir = path.join(workspace, 'results');
  // results/ itself a link would lead outside the workspace: only a real folder is listed.
  if ((await fs.lstat(resultsDir).catch(() => undefined))?.isDirectory()) {
    const walk = await walkTree(resultsDir, { ...limits, ignore: ignored }, (e, walkReport) => {
      const rel = `results/${e.rel}`;
      if (e.kind === 'dir') return;
      // A link or a FIFO named like a result is said, not opened.
      if (e.kind !== 'file') {
        if (DATA.test(rel) || FIGURE.test(rel)) walkReport.skip(e.rel, e.kind === 'symlink' ? 'not copied: a symbolic link' : 'not copied: not a regular file');
        return;
      }
      if (DATA.test(rel) || FIGURE.test(rel)) results.push({ rel, full: e.full, as: !writtenByCode.has(rel) ? 'typed-by-agent' : DATA.test(rel) ? 'result' : 'figure', stored: '' });
    });
    merge(walk, 'results/');
  }
  const rest = await walkTree(workspace, { ...limits, ignore: (name, rel) => ignored(name) || rel === 'results' }, (e) => {
    if (e.kind === 'file' && CODE.test(e.rel)) code.push({ rel: e.rel, full: e.full, as: 'code', stored: '' });
  });
  merge(rest, '');
  const byName = (a: Candidate, b: Candidate) => a.rel.localeCompare(b.rel);
  // Code in a folder too large to list whole is generated, not written: the rest comes first.
  const crowded = new Set(rest.partial);
  const inCrowded = (c: Candidate) => (crowded.has(path.posix.dirname(c.rel)) ? 1 : 0);
  code.sort((a, b) => inCrowded(a) - inCrowded(b) || byName(a, b));
  const over = (list: Candidate[], max: number, what: string) => {
    if (list.length > max) report.skip(`${list[max].rel} and ${list.length - max - 1} more`, `not copied: over the limit of ${max} ${what}`, list.length - max);
    return list.slice(0, max);
  };
  const candidates = [...over(results.sort(byName), MAX_RESULT_FILES, 'result files'), ...over(code, MAX_CODE_FILES, 'code files')];
  // Names that can be stored as they are keep them; the others get a plain name no other file has.
  const natural = (c: Candidate) => (c.as === 'code' ? `experiment/code/${c.rel}` : c.as === 'typed-by-agent' ? `experiment/typed-by-agent/${c.rel}` : c.rel);
  const taken = new Set(RESERVED);
  for (const c of candidates) if (isPlainArtifactName(natural(c)) && !taken.has(natural(c))) taken.add((c.stored = natural(c)));
  for (const c of candidates) {
    if (c.stored) continue;
    const base = natural(c);
    let name = plainArtifactName(base);
    // Taken (a reserved name, or a plain name another file has): the full hash, then a number.
    if (taken.has(name)) name = plainArtifactName(base, { always: true });
    if (taken.has(name)) name = plainArtifactName(base, { hashChars: 64, always: true });
    for (let n = 2; taken.has(name); n++) name = plainArtifactName(base, { hashChars: 64, always: true, tag: String(n) });
    taken.add((c.stored = name));
  }
  return { candidates, report };
}

/** A regular file's bytes (never through a link, never waiting on a FIFO), or why not. */
async function readCandidate(full: string, maxBytes: number): Promise<Buffer | string> {
  let handle;
  try {
    handle = await fs.open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'gone' : code === 'ELOOP' ? 'not copied: a symbolic link' : `cannot be read (${code ?? err})`;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return 'not copied: not a regular file';
    if (stat.size > maxBytes) return maxBytes < MAX_FILE_BYTES ? `not copied: the collection's ${MAX_COLLECTED_BYTES / 1024 / 1024} MB were used up` : `not copied: ${stat.size} bytes, over the ${MAX_FILE_BYTES / 1024 / 1024} MB limit for one file`;
    // Read to the bound only, should it have grown since its stat.
    const body = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let got = 0;
    for (let n = 1; n > 0 && got < body.length; got += n) n = (await handle.read(body, got, body.length - got, null)).bytesRead;
    return got > maxBytes ? `not copied: over ${maxBytes} bytes` : body.subarray(0, got);
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function mediaTypeOf(rel: string): string {
  const ext = path.extname(rel).toLowerCase();
  return (
    { '.csv': 'text/csv', '.tsv': 'text/tab-separated-values', '.json': 'application/json', '.txt': 'text/plain', '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' }[ext] ??
    'application/octet-stream'
  );
}

function noResultsReason(records: StepRecord[], end: ExperimentEnd): string {
  const runs = records.filter((r) => r.action.action === 'run');
  const failed = runs.filter((r) => r.observation.exitCode !== 0 || r.observation.killedBy);
  const ended = { finished: 'the agent finished', max_steps: 'the step limit was reached', wall_time: 'the time limit was reached', budget: 'the budget ran out' }[end];
  return `no result files in results/ written by a command (${ended}; ${runs.length} command${runs.length === 1 ? '' : 's'} run, ${failed.length} failed)`;
}

/** A CSV/TSV as a markdown table, a JSON file as its scalar fields, text as a quoted block. */
export function renderDataFile(rel: string, content: string): string {
  const head = `### ${rel}`;
  if (/\.(csv|tsv)$/i.test(rel)) {
    const sep = rel.toLowerCase().endsWith('.tsv') ? '\t' : ',';
    const rows = content.trim().split(/\r?\n/).map((l) => splitRow(l, sep));
    if (!rows.length || !rows[0].length) return `${head}\n(empty)`;
    const [header, ...body] = rows;
    const shown = body.slice(0, MAX_TABLE_ROWS);
    const cell = (c: string) => c.replace(/\|/g, '\\|');
    const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...shown.map((r) => `| ${r.map(cell).join(' | ')} |`)];
    if (body.length > shown.length) lines.push(`\n(${body.length - shown.length} more rows in the file)`);
    return `${head}\n${lines.join('\n')}`;
  }
  if (/\.json$/i.test(rel)) {
    try {
      const flat = flatten(JSON.parse(content));
      const shown = flat.slice(0, MAX_TABLE_ROWS * 2);
      return `${head}\n| field | value |\n| --- | --- |\n${shown.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}${flat.length > shown.length ? `\n\n(${flat.length - shown.length} more fields in the file)` : ''}`;
    } catch {
      return `${head}\n(not valid JSON)`;
    }
  }
  const text = content.length > 3000 ? `${content.slice(0, 3000)}\n…` : content;
  return `${head}\n\`\`\`\n${text.trimEnd()}\n\`\`\``;
}

function splitRow(line: string, sep: string): string[] {
  if (sep !== ',' || !line.includes('"')) return line.split(sep).map((c) => c.trim());
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

function flatten(value: unknown, prefix = ''): Array<[string, string]> {
  if (value === null || typeof value !== 'object') return [[prefix || '(value)', String(value)]];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

function renderResults(o: {
  input: CollectResultsInput;
  records: StepRecord[];
  status: ExperimentResults['status'];
  reason?: string;
  tables: string[];
  figures: Array<{ path: string; stored: string }>;
  summaryReport?: CheckReport;
  typedByAgent: string[];
  /** Result files a command wrote whose values it held as literals (laundered): not measured. */
  typedByCode: Array<{ file: string; why: string }>;
  collection: WalkReport;
  /** Why the provenance check could not run, if it could not. */
  provenanceFailure?: string;
}): string {
  const ended = { finished: `the agent finished after ${o.records.length} steps`, max_steps: 'the step limit', wall_time: 'the wall-time limit', budget: 'the budget' }[o.input.end];
  const lines = [
    '# Experiment results',
    '',
    "> Built by Durable Lab from the files the experiment's code wrote in its sandbox. Tables are copied from those files; no number here was typed by a model, except in the agent's summary at the end, which is checked against them.",
    '',
    o.input.brief === 'competition'
      ? '- **Status:** a competition run: its method is scored on the hidden test split after the run (see the run\'s score), not by files in results/'
      : `- **Status:** ${o.status === 'succeeded' ? 'results produced' : `failed experiment: ${o.reason}`}`,
    `- **Ended by:** ${ended}`,
    ...(o.input.hostsLost?.length
      ? [
          `- **Sandbox host lost:** ${o.input.hostsLost.map((h) => `\`${h.queue}\` stopped answering ${h.atStep ? `after step ${h.atStep}` : 'before the first step'}`).join('; ')}. Its workspace was lost with it, so the experiment started over on another host; these results and the steps in \`experiment/transcript.jsonl\` are all from the workspace collected here.`,
        ]
      : []),
    '',
  ];
  if (o.tables.length) lines.push('## Measured results', '', ...o.tables.flatMap((t) => [t, '']));
  // The link is the stored name (plain characters only), the caption the name the code gave it.
  const target = (stored: string) => (stored.includes(' ') ? `<${stored}>` : stored);
  if (o.figures.length) lines.push('## Figures', '', ...o.figures.flatMap((f) => [`![${printable(f.path).replace(/[[\]]/g, '\\$&')}](${target(f.stored.slice('results/'.length))})`, '']));
  const examples = o.input.brief === 'competition' ? [] : examplesRun(o.records);
  if (examples.length) {
    lines.push(
      "## The brief's example script, run as it stands",
      '',
      // The counts are in a code span: they are not results, and the provenance check skips code spans.
      ...examples.map(
        (e) =>
          `- \`${printable(e.path)}\` (\`${e.copy.kept} of the example's ${e.copy.of} lines kept, ${e.copy.own} of its own\`) is the example from the agent's instructions with hardly a change: its results measure that example's models and data (logistic regression and a random forest on scikit-learn's breast-cancer set), not the method the proposal describes.`,
      ),
      '',
    );
  }
  if (o.typedByAgent.length) {
    lines.push(
      '## Not counted as results',
      '',
      `The agent wrote these files itself (write_file), no command produced them, so they are not measured results: ${o.typedByAgent.map((f) => `\`${printable(f)}\``).join(', ')} (kept under \`experiment/typed-by-agent/\`).`,
      '',
    );
  }
  if (o.typedByCode.length) {
    lines.push(
      '## Typed, not measured',
      '',
      'A command wrote these files, but their values were typed into it or into the script it ran, so they are not counted as measured results:',
      '',
      // In code spans: the reasons quote numbers that are not results.
      ...o.typedByCode.map((t) => `- \`${printable(t.file)}\`: \`${t.why.replace(/`/g, "'")}\``),
      '',
    );
  }
  if (o.collection.note()) {
    const shown = o.collection.skipped.slice(0, 20);
    lines.push(
      '## Files not collected',
      '',
      // In code spans: these counts are not results, and the provenance check skips code spans.
      `\`${o.collection.note('The collection')!.replace(/`/g, "'")}\``,
      '',
      ...shown.map((s) => `- \`${s.path.replace(/`/g, "'")}\`: \`${s.reason.replace(/`/g, "'")}\``),
      ...(o.collection.skippedCount > shown.length ? [`- \`…and ${o.collection.skippedCount - shown.length} more\` (the first hundred are in \`experiment/collected.json\`)`] : []),
      '',
    );
  }
  if (o.provenanceFailure) {
    lines.push(
      '## Provenance check: could not run',
      '',
      // In a code span: the reason is not a result, and the provenance check skips code spans.
      `The check that the numbers here come from the files the code wrote could not run, so nothing was checked: \`${o.provenanceFailure.replace(/`/g, "'")}\``,
      '',
    );
  }
  const runs = o.records.filter((r) => r.action.action === 'run');
  lines.push('## Commands run', '');
  if (runs.length) {
    lines.push('| step | command | result | seconds |', '| --- | --- | --- | --- |');
    for (const r of runs) {
      const cmd = (r.action as { command: string }).command.replace(/\|/g, '\\|').replace(/\n/g, ' ');
      const how = r.observation.killedBy ? `killed: ${r.observation.killedBy} limit` : `exit ${r.observation.exitCode}`;
      lines.push(`| ${r.step} | \`${cmd.length > 120 ? `${cmd.slice(0, 120)}…` : cmd}\` | ${how} | ${((r.observation.durationMs ?? 0) / 1000).toFixed(1)} |`);
    }
  } else lines.push('(none)');
  lines.push('', 'Full output of every command: `results/log.txt`; each step: `experiment/steps/`.');
  if (o.input.summary) {
    lines.push('', "## Agent's summary (model-written)", '', o.input.summary.trim());
    if (o.summaryReport?.status === 'error') {
      lines.push('', `**Provenance:** the numbers in this summary could not be checked: \`${(o.summaryReport.error ?? 'unknown error').replace(/`/g, "'")}\``);
    } else if (o.summaryReport?.flagged) {
      const flagged = o.summaryReport.findings.filter((f) => f.role === 'result' && FLAGGED_VERDICTS.includes(f.verdict));
      lines.push('', `**Provenance:** ${flagged.length} number(s) in this summary appear in no result file or command output: ${flagged.map((u) => u.text).join(', ')}.`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function renderLog(records: StepRecord[]): string {
  const out: string[] = [];
  for (const r of records) {
    if (r.action.action !== 'run') continue;
    const o = r.observation;
    out.push(
      `=== step ${r.step}: $ ${r.action.command}`,
      `${o.killedBy ? `killed (${o.killedBy} limit)` : `exit ${o.exitCode}`} after ${((o.durationMs ?? 0) / 1000).toFixed(1)} s; output ${o.stdoutBytes ?? 0}+${o.stderrBytes ?? 0} bytes, sha256 ${o.outputSha256 ?? '?'}${o.output ? `; full output: ${o.output.path}` : ''}`,
      o.text.trimEnd(),
      '',
    );
  }
  return out.length ? `${out.join('\n')}\n` : '(no command was run)\n';
}
