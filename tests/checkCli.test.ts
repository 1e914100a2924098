/**
 * `lab check <folder>` as a user runs it (a real process, no Temporal server): on MLR-Bench's ten
 * end-to-end folders it writes check.json and check.md that agree, exits 5 exactly when result
 * claims are flagged, marks every flagged number in check.md, and keeps bad input to one line.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../activities/config.js';
import { FLAGGED_VERDICTS, type CheckReport } from '../activities/integrity/check/types.js';
import { TASKS, unpackCorpus } from './helpers/integrityCorpus.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

let corpus: string;
let scratch: string;

/** `node scripts/lab.mjs check ...`, with LAB_HOME in the scratch folder. */
function labCheck(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), 'check', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LAB_HOME: path.join(scratch, 'lab-home'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms: Date.now() - started })));
}

type CheckJson = CheckReport & { folder: string; layout: string; citations: { status: string; reason?: string; found: number; report?: { verified: number } } };

const readJson = (dir: string): CheckJson => JSON.parse(readFileSync(path.join(dir, 'check.json'), 'utf8'));
const oneLine = (text: string) => text.trim().split('\n').length === 1;

beforeAll(() => {
  corpus = unpackCorpus();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'lab-check-cli-'));
});

afterAll(() => {
  rmSync(corpus, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('lab check on MLR-Bench end-to-end folders', () => {
  for (const task of TASKS) {
    it(task, async () => {
      const out = path.join(scratch, 'out', task);
      const r = await labCheck([path.join(corpus, task), '--out', out, '--offline']);
      console.log(`lab check ${task}: ${r.ms} ms (exit ${r.code})`);
      expect(r.stderr).toBe('');
      expect(r.ms).toBeLessThan(20_000);
      expect(existsSync(path.join(out, 'check.json'))).toBe(true);
      expect(existsSync(path.join(out, 'check.md'))).toBe(true);
      const report = readJson(out);
      const md = readFileSync(path.join(out, 'check.md'), 'utf8');

      expect(report.status).toBe('ok');
      expect(report.layout).toBe('mlr-bench');
      const flagged = report.findings.filter((f) => f.role === 'result' && FLAGGED_VERDICTS.includes(f.verdict));
      expect(report.flagged).toBe(flagged.length);
      expect(r.code).toBe(report.flagged > 0 ? 5 : 0);

      // check.md says what check.json says: the counts, and each flagged number marked in its sentence.
      if (report.results) expect(md).toContain(`**${report.results} result claims, ${report.flagged} flagged**`);
      else expect(md).toContain('**No result claim found**');
      for (const [verdict, n] of Object.entries(report.counts)) expect(md).toContain(`| ${verdict} | ${n} |`);
      for (const f of flagged) {
        expect(md).toContain(f.cell ? `**⚠ ⟦${f.text}⟧**` : `**⚠ ${f.text}** (line ${f.line})`);
        if (!f.cell) expect(md).toContain(`**⟦${f.text}⟧**`);
      }
      // Citations were not looked up (--offline): said so, and none counted verified.
      expect(report.citations.status).toBe('not-checked');
      expect(report.citations.reason).toBe('--offline');
      expect(md).toContain('citations: NOT checked (--offline)');
      expect(r.stdout).toContain('citations: NOT checked (--offline)');

      // The summary: one line per verdict count, then the flagged claims (at most 20 listed).
      for (const [verdict, n] of Object.entries(report.counts)) expect(r.stdout).toMatch(new RegExp(`^  ${verdict}\\s+${n}\\s`, 'm'));
      if (report.flagged) {
        expect(r.stdout).toContain('flagged result claims:');
        expect(r.stdout).toContain(`L${flagged[0].line}`);
        if (report.flagged > 20) expect(r.stdout).toContain(`and ${report.flagged - 20} more: see`);
      } else expect(r.stdout).not.toContain('flagged result claims:');
    });
  }
});

describe('lab check: output and input', () => {
  it('--json prints only the report, the same as check.json', async () => {
    const out = path.join(scratch, 'json');
    const r = await labCheck([path.join(corpus, 'iclr2025_scsl'), '--out', out, '--json', '--offline']);
    expect([0, 5]).toContain(r.code);
    expect(r.stderr).toBe('');
    const printed = JSON.parse(r.stdout) as CheckJson;
    expect(printed).toEqual(readJson(out));
    expect(r.code).toBe(printed.flagged > 0 ? 5 : 0);
  });

  it('writes into <folder>/lab-check/ by default, and a second check does not read it back', async () => {
    const folder = path.join(scratch, 'default-out');
    cpSync(path.join(corpus, 'iclr2025_wsl'), folder, { recursive: true });
    const first = await labCheck([folder, '--offline']);
    expect([0, 5]).toContain(first.code);
    expect(existsSync(path.join(folder, 'lab-check', 'check.json'))).toBe(true);
    expect(existsSync(path.join(folder, 'lab-check', 'check.md'))).toBe(true);
    expect(first.stdout).toContain(path.join(folder, 'lab-check', 'check.md'));
    const before = readJson(path.join(folder, 'lab-check'));
    const second = await labCheck([folder, '--offline']);
    expect(second.code).toBe(first.code);
    const after = readJson(path.join(folder, 'lab-check'));
    expect(after.sources.map((s) => s.file)).toEqual(before.sources.map((s) => s.file));
    expect(after.sources.some((s) => s.file.includes('lab-check'))).toBe(false);
  });

  it('says plainly that citations were not checked when no literature backend answers', async () => {
    const out = path.join(scratch, 'unreachable');
    const nowhere = 'http://127.0.0.1:9';
    const r = await labCheck([path.join(corpus, 'iclr2025_scsl'), '--out', out], {
      LAB_LITERATURE_BACKENDS: 'arxiv,semantic_scholar,openalex',
      LAB_ARXIV_URL: nowhere,
      LAB_SEMANTIC_SCHOLAR_URL: nowhere,
      LAB_OPENALEX_URL: nowhere,
      LAB_LITERATURE_TIMEOUT_MS: '3000',
    });
    expect([0, 5]).toContain(r.code);
    const report = readJson(out);
    expect(report.citations.status).toBe('not-checked');
    expect(report.citations.report).toBeUndefined();
    expect(report.citations.reason).toMatch(/no literature backend answered/);
    const md = readFileSync(path.join(out, 'check.md'), 'utf8');
    expect(md).toMatch(/citations: NOT checked \(no literature backend answered/);
    expect(md).toContain('none was verified');
    expect(r.stdout).toMatch(/citations: NOT checked/);
  });

  it('a missing folder is one line, exit 1', async () => {
    const r = await labCheck([path.join(scratch, 'no-such-folder'), '--offline']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/not a folder/);
    expect(r.stdout).toBe('');
  });

  it('a folder without a paper is one line naming what was looked for, exit 1', async () => {
    const folder = path.join(scratch, 'no-paper');
    mkdirSync(path.join(folder, 'results'), { recursive: true });
    writeFileSync(path.join(folder, 'results', 'metrics.csv'), 'method,accuracy\nbaseline,0.91\n');
    const r = await labCheck([folder, '--offline']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/no paper found \(looked for paper\.md, results\/paper\.md/);
    expect(existsSync(path.join(folder, 'lab-check'))).toBe(false);
  });

  it('an --out that cannot be written is one line naming --out, exit 1', async () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, 'not a folder\n');
    const r = await labCheck([path.join(corpus, 'iclr2025_scsl'), '--out', path.join(file, 'sub'), '--offline']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain(`--out ${path.join(file, 'sub')}`);
  });

  it('bad usage is exit 2', async () => {
    for (const args of [['--bogus', corpus], [], [corpus, 'extra'], [corpus, '--out'], [corpus, '--out', '  ']]) {
      const r = await labCheck(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^lab check: /);
    }
  });

  it('is listed in lab --help', async () => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), '--help'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    await new Promise((resolve) => child.on('close', resolve));
    expect(stdout).toMatch(/^\s+check\s+check a paper folder/m);
  });
});
