/**
 * The end of the experiment: copy what the code wrote into the artifact store and build
 * `results/results.md` and `results/log.txt` from it. Tables are copied from the result files,
 * never written by a model; with no result files the experiment is `failed_experiment`.
 * Runs on the `sandbox` queue, where the workspace is.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExperimentEnd } from '../../common/experiment.js';
import type { EnvAction, Observation } from '../../common/environment.js';
import type { ArtifactRef } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import { workspaceRoot } from '../config.js';
import { checkProvenance, MeasuredIndex, type ProvenanceReport } from '../integrity/provenance.js';
import { appendPending } from './agent.js';
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
}

export interface ExperimentResults {
  status: 'succeeded' | 'failed_experiment';
  reason?: string;
  results: ArtifactRef;
  log: ArtifactRef;
  transcript?: ArtifactRef;
  /** Result data, figures and code, as stored. */
  files: ArtifactRef[];
  /** Files whose numbers count as measured (result data and raw command outputs). */
  measured: ArtifactRef[];
  provenance: Pick<ProvenanceReport, 'checked' | 'matched'> & { unmatched: number };
  steps: number;
  commands: number;
}

const DATA = /\.(csv|tsv|json|txt)$/i;
const FIGURE = /\.(png|svg|jpe?g)$/i;
const CODE = /\.(py|sh|ipynb|ya?ml|toml|cfg|r|jl)$/i;
/** Files above this are not copied (a model checkpoint is not a result table). */
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const MAX_TABLE_ROWS = 50;

export function createResultsActivities({ store }: { store: ArtifactStore }) {
  return {
    async collectExperimentResults(input: CollectResultsInput): Promise<ExperimentResults> {
      const transcript = await appendPending(store, { ...input, step: input.step + 1 });
      const records = transcript ? parseTranscript(await store.getText(transcript)) : [];
      const workspace = path.join(workspaceRoot(), input.runId);
      const found = await listFiles(workspace);
      // Only what a command wrote counts as measured; a file the agent typed with write_file is not a result.
      const writtenByCode = new Set(
        records.filter((r) => r.action.action === 'run').flatMap((r) => r.observation.filesChanged.filter((f) => f.change !== 'deleted').map((f) => f.path)),
      );
      const typedByAgent: string[] = [];

      const files: ArtifactRef[] = [];
      const measured: ArtifactRef[] = [];
      const tables: string[] = [];
      const figures: string[] = [];
      const index = new MeasuredIndex();
      for (const rel of found) {
        const full = path.join(workspace, rel);
        const stat = await fs.stat(full);
        if (stat.size > MAX_FILE_BYTES) continue;
        const inResults = rel.startsWith('results/');
        if (inResults && !writtenByCode.has(rel) && (DATA.test(rel) || FIGURE.test(rel))) {
          files.push(await store.put(input.runId, `experiment/typed-by-agent/${rel}`, await fs.readFile(full), mediaTypeOf(rel)));
          typedByAgent.push(rel);
        } else if (inResults && DATA.test(rel)) {
          const content = await fs.readFile(full, 'utf8');
          const ref = await store.put(input.runId, rel, content, mediaTypeOf(rel));
          files.push(ref);
          measured.push(ref);
          index.add(rel, content);
          tables.push(renderDataFile(rel, content));
        } else if (inResults && FIGURE.test(rel)) {
          files.push(await store.put(input.runId, rel, await fs.readFile(full), mediaTypeOf(rel)));
          figures.push(rel);
        } else if (!inResults && CODE.test(rel)) {
          files.push(await store.put(input.runId, `experiment/code/${rel}`, await fs.readFile(full), 'text/plain'));
        }
      }
      for (const r of records) {
        if (r.observation.output) {
          measured.push(r.observation.output);
          index.add(r.observation.output.path, await store.getText(r.observation.output).catch(() => ''));
        }
      }

      // One table per result data file a command wrote.
      const status: ExperimentResults['status'] = tables.length > 0 ? 'succeeded' : 'failed_experiment';
      const reason = status === 'succeeded' ? undefined : noResultsReason(records, input.end);
      const summaryReport = input.summary ? checkProvenance({ summary: input.summary }, index) : undefined;
      const resultsMd = renderResults({ input, records, status, reason, tables, figures, summaryReport, typedByAgent });
      const results = await store.put(input.runId, 'results/results.md', resultsMd);
      const log = await store.put(input.runId, 'results/log.txt', renderLog(records), 'text/plain');
      const report = checkProvenance({ 'results.md': resultsMd }, index);
      return {
        status,
        reason,
        results,
        log,
        transcript,
        files,
        measured,
        provenance: { checked: report.checked, matched: report.matched, unmatched: report.unmatched.length },
        steps: records.length,
        commands: records.filter((r) => r.action.action === 'run').length,
      };
    },
  };
}

export type ResultsActivities = ReturnType<typeof createResultsActivities>;

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name === '__pycache__' || e.name === 'node_modules') continue;
    const child = rel ? `${rel}/${e.name}` : e.name;
    // Symbolic links are not followed: a link could point outside the workspace.
    if (e.isDirectory()) out.push(...(await listFiles(root, child)));
    else if (e.isFile()) out.push(child);
  }
  return out;
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
  figures: string[];
  summaryReport?: ProvenanceReport;
  typedByAgent: string[];
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
    '',
  ];
  if (o.tables.length) lines.push('## Measured results', '', ...o.tables.flatMap((t) => [t, '']));
  if (o.figures.length) lines.push('## Figures', '', ...o.figures.flatMap((f) => [`![${f}](${f.slice('results/'.length)})`, '']));
  if (o.typedByAgent.length) {
    lines.push(
      '## Not counted as results',
      '',
      `The agent wrote these files itself (write_file), no command produced them, so they are not measured results: ${o.typedByAgent.map((f) => `\`${f}\``).join(', ')} (kept under \`experiment/typed-by-agent/\`).`,
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
    if (o.summaryReport?.unmatched.length) {
      lines.push('', `**Provenance:** ${o.summaryReport.unmatched.length} number(s) in this summary appear in no result file or command output: ${o.summaryReport.unmatched.map((u) => u.text).join(', ')}.`);
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
