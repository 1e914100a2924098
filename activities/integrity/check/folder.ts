/**
 * Reads a paper folder for the integrity check: the paper, the data files its code wrote, the
 * coding agent's transcript (to tell typed files from measured ones) and the code and commands
 * (the settings it ran with). Knows three layouts: Durable Lab's run folder, MLR-Bench's
 * end-to-end output (results/paper.md, claude_output.json) and AI Scientist's (a LaTeX or
 * markdown write-up beside run folders); anything else is read the same generic way.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseTranscript } from '../../experiment/transcript.js';
import { walkTree } from '../../fsWalk.js';
import type { CheckSource } from './engine.js';
import { resultNumbers, typedFiles, writerOf, writesFromClaudeTranscript, writesFromLabTranscript, type WriteLog } from './writers.js';

export type Layout = 'durable-lab' | 'mlr-bench' | 'ai-scientist' | 'generic';

export interface PaperFolder {
  root: string;
  layout: Layout;
  /** The paper (and nothing else): name relative to the folder → markdown. */
  documents: Record<string, string>;
  sources: CheckSource[];
  notes: string[];
}

const DATA = /\.(csv|tsv|json|jsonl|txt|log|out)$/i;
const CODE = /\.(py|sh|ya?ml|toml|cfg|ini)$/i;
const MARKDOWN = /\.(md|markdown)$/i;
/** Not the experiment's output: the task and plans, token counts, transcripts, earlier checks and reviews. */
const NOT_OUTPUT = /(?:^|\/)(?:task|idea|proposal|related_work|lit|literature|references)\.(?:md|json)$|token_usage\.json$|claude_output\.json$|(?:^|\/)(?:check|provenance|citations|collected|progress|run)\.json$|(?:^|\/)(?:lab-check|reviews|\.git|node_modules|__pycache__)\//i;
/** Bounds on what is read: a folder of a million files is not read whole. */
const MAX_ENTRIES = 20_000;
const MAX_FILE_BYTES = 50 * 1024 * 1024;

const PAPER_CANDIDATES = ['paper.md', 'results/paper.md', 'paper/paper.md', 'report.md', 'latex/template.tex', 'paper.tex', 'report.tex'];

async function exists(p: string): Promise<boolean> {
  return !!(await fs.stat(p).catch(() => undefined))?.isFile();
}

async function readText(p: string): Promise<string | undefined> {
  const stat = await fs.stat(p).catch(() => undefined);
  if (!stat?.isFile() || stat.size > MAX_FILE_BYTES) return undefined;
  return fs.readFile(p, 'utf8');
}

/** LaTeX read as markdown closely enough for the check: sections as headings, tables as rows. */
export function latexAsMarkdown(tex: string): string {
  return tex
    .replace(/(?<!\\)%.*$/gm, '')
    .replace(/\\(?:sub)*section\*?\{([^}]*)\}/g, (_m, t: string) => `\n## ${t}\n`)
    .replace(/\\begin\{abstract\}/g, '\n## Abstract\n')
    .replace(/\\(?:begin|end)\{(?:equation|align)\*?\}/g, '\n```\n')
    .replace(/^(.*&.*)\\\\\s*(?:\\hline)?\s*$/gm, (_m, row: string) => `| ${row.split('&').map((c) => c.trim()).join(' | ')} |`)
    .replace(/\\(?:cite|citep|citet|ref|label|eqref)\{[^}]*\}/g, '[ref]')
    .replace(/\\(?:textbf|textit|emph|text)\{([^}]*)\}/g, '$1')
    .replace(/\\%/g, '%');
}

async function findPaper(root: string): Promise<{ name: string; text: string } | undefined> {
  for (const name of PAPER_CANDIDATES) {
    const text = await readText(path.join(root, name));
    if (text !== undefined) return { name, text: name.endsWith('.tex') ? latexAsMarkdown(text) : text };
  }
  return undefined;
}

function layoutOf(names: Set<string>, paper: string): Layout {
  if (paper === 'paper.md' && (names.has('experiment/collected.json') || names.has('results/results.md'))) return 'durable-lab';
  if (names.has('claude_output.json') || paper === 'results/paper.md') return 'mlr-bench';
  if ([...names].some((n) => /(?:^|\/)final_info\.json$/.test(n)) || paper.endsWith('.tex')) return 'ai-scientist';
  return 'generic';
}

/** The transcript's record of who wrote which file, when the folder has one. */
async function writeLogOf(root: string, names: Set<string>): Promise<{ log?: WriteLog; note?: string }> {
  try {
    if (names.has('claude_output.json')) return { log: writesFromClaudeTranscript(JSON.parse((await readText(path.join(root, 'claude_output.json'))) ?? '[]')) };
    const lab = ['experiment/transcript.jsonl', 'experiment/steps.jsonl'].find((n) => names.has(n));
    if (lab) return { log: writesFromLabTranscript(parseTranscript((await readText(path.join(root, lab))) ?? '')) };
  } catch (err) {
    return { note: `The transcript could not be read (${(err as Error).message}): typed result files cannot be told from measured ones.` };
  }
  return { note: 'No transcript of the coding agent: typed (laundered) result files cannot be told from measured ones.' };
}

/** In a Durable Lab run folder: result data the code wrote and the output of each command (results.md and log.txt are built from them). */
function isLabMeasured(name: string): boolean {
  return (name.startsWith('results/') && name !== 'results/results.md' && name !== 'results/log.txt') || /^experiment\/steps\/\d+-output\.txt$/.test(name);
}

/** Literal numbers (two or more decimals: not a setting like 0.5 or 100) in the command and scripts that wrote `file`. */
function writerLiterals(log: WriteLog, file: string): number[] {
  const w = writerOf(log, file);
  if (!w || w.by !== 'command') return [];
  const text = [w.command ?? '', ...(w.scripts ?? []).map((s) => s.source)].join('\n');
  return [...new Set(resultNumbers(text).filter((n) => n.decimals >= 2).map((n) => n.value))];
}

export async function readPaperFolder(dir: string): Promise<PaperFolder> {
  const root = path.resolve(dir);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) throw new Error(`${dir}: not a folder`);
  const paper = await findPaper(root);
  if (!paper) throw new Error(`${dir}: no paper found (looked for ${PAPER_CANDIDATES.join(', ')})`);
  const notes: string[] = [];
  const names = new Set<string>();
  const walk = await walkTree(root, { maxEntries: MAX_ENTRIES, maxPerFolder: MAX_ENTRIES, timeLimitMs: 10_000, ignore: (name) => name === '.git' || name === 'node_modules' || name === '__pycache__' || name === 'lab-check' }, (e) => {
    if (e.kind === 'file') names.add(e.rel);
  });
  if (walk.truncated || walk.skippedCount) notes.push(`The folder was not read whole (${walk.note('the listing') ?? 'bounded listing'}).`);
  const layout = layoutOf(names, paper.name);
  const { log, note } = await writeLogOf(root, names);
  if (note) notes.push(note);

  const sources: CheckSource[] = [];
  const data: Record<string, string> = {};
  const markdown: Record<string, string> = {};
  for (const name of [...names].sort()) {
    if (name === paper.name || NOT_OUTPUT.test(name)) continue;
    // Durable Lab's run folder: results/ and each command's output are measured; its own records are not.
    if (layout === 'durable-lab' && !isLabMeasured(name) && !name.startsWith('experiment/code/') && !name.startsWith('experiment/typed-by-agent/')) continue;
    const typedByAgent = layout === 'durable-lab' && name.startsWith('experiment/typed-by-agent/');
    const isCode = CODE.test(name) || name.startsWith('experiment/code/');
    if (!DATA.test(name) && !MARKDOWN.test(name) && !isCode) continue;
    const text = await readText(path.join(root, name));
    if (text === undefined) {
      notes.push(`${name}: not read (over ${MAX_FILE_BYTES / 1024 / 1024} MB or unreadable).`);
      continue;
    }
    if (isCode) sources.push({ file: name, content: text, as: 'config' });
    else if (typedByAgent) sources.push({ file: name, content: text, as: 'typed', note: 'written by the agent with write_file, not by code' });
    else if (MARKDOWN.test(name)) markdown[name] = text;
    else data[name] = text;
  }
  // Markdown counts as data only when code wrote it; typed when the agent did; else it is not read.
  for (const [name, text] of Object.entries(markdown)) {
    const writer = log && writerOf(log, name);
    if (writer?.by === 'command') data[name] = text;
    else if (writer?.by === 'agent') sources.push({ file: name, content: text, as: 'typed', note: 'written by the agent, not by code' });
    else notes.push(`${name}: a markdown file with no known writer: not counted as measured.`);
  }
  const typed = new Map((log ? typedFiles(log, data) : []).map((t) => [t.file, t.why]));
  // With a transcript, a data file no step of it wrote came from outside the record: not counted as measured.
  if (log) for (const name of Object.keys(data)) if (!typed.has(name) && !writerOf(log, name)) typed.set(name, 'no step of the transcript wrote it, so nothing shows it was measured');
  for (const [name, text] of Object.entries(data)) {
    const why = typed.get(name);
    if (why) sources.push({ file: name, content: text, as: 'typed', note: why });
    else sources.push({ file: name, content: text, as: 'measured', ...(log ? { literals: writerLiterals(log, name) } : {}) });
  }
  if (log) {
    for (const [script, source] of Object.entries(log.scripts)) if (!names.has(script)) sources.push({ file: `transcript:${script}`, content: source, as: 'config' });
    const commands = log.writes.map((w) => w.command).filter((c): c is string => !!c);
    if (commands.length) sources.push({ file: 'transcript:commands', content: [...new Set(commands)].join('\n'), as: 'config' });
  }
  return { root, layout, documents: { [paper.name]: paper.text }, sources, notes };
}
