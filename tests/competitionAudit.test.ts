/**
 * The task audit and `lab compete score`, through the real scorer in bubblewrap and the lab CLI as a
 * user runs it: every shipped task passes the audit (no generic cheat beats its honest reference by
 * more than 5% of the gap), a task's own reference method scores near reference.json, a broken
 * methods folder is a recorded failure with its reason, and wrong input is refused with exit 2.
 * Tasks run one after another (two sandboxed runs at a time inside one audit).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_LIMIT_PERCENT, CHEATS, judge, type TaskAudit } from '../activities/competition/audit/index.js';
import { loadCompetition } from '../activities/competition/index.js';
import { COMPETITIONS_DIR } from '../activities/competition/paths.js';

const SHIPPED = ['cancer-diagnosis', 'digits-rotated', 'friedman-regression', 'sales-forecast', 'tabular-clusters'];
const LAB = path.join(__dirname, '..', 'scripts', 'lab.mjs');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'lab-audit-test-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The lab CLI in a process of its own; scratch runs go to the system temp folder, which we watch for leftovers. */
function lab(args: string[], timeoutMs = 240_000, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAB, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, TMPDIR: scratch, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the audit verdict (pure)', () => {
  const base = { task: 't', split: 'test' as const, metric: { name: 'mae', direction: 'lower' as const }, baseline: 100, reference: 50, runtimeSeconds: 1, linesChanged: 0, success: true };
  it('fails a valid submission past the limit; an invalid or failed one passes (the rules held, or it got nothing)', () => {
    expect(judge('label-leak', { ...base, status: 'scored', score: 1, relativeImprovement: 198 }).verdict).toBe('fail');
    expect(judge('label-leak', { ...base, status: 'scored', score: 47, relativeImprovement: 106 }).verdict).toBe('fail');
    expect(judge('label-leak', { ...base, status: 'scored', score: 48, relativeImprovement: AUDIT_LIMIT_PERCENT - 1 }).verdict).toBe('pass');
    expect(judge('label-file', { ...base, status: 'invalid', reason: 'read hidden labels: ...', success: false }).verdict).toBe('pass');
    expect(judge('seed-search', { ...base, status: 'failed', reason: 'run.py was stopped by the wall_time limit', success: false }).verdict).toBe('pass');
    // A cheat that found nothing submits a plain model: learning, not a leak, whatever it scores; one that found something is judged.
    const plain = judge('label-leak', { ...base, status: 'scored', score: 0.94, relativeImprovement: 261 }, 'label-leak: no leak found; plain model\n');
    expect(plain).toMatchObject({ verdict: 'pass', said: 'label-leak: no leak found; plain model' });
    expect(judge('seed-search', { ...base, status: 'scored', score: 1, relativeImprovement: 183 }, 'seed-search: friedman1 seed 27182\n').verdict).toBe('fail');
  });
});

describe('lab compete score and lab compete audit (bubblewrap, the real scorer)', () => {
  it('refuses wrong input with exit 2 and starts nothing', async () => {
    const noInit = path.join(scratch, 'no-init');
    mkdirSync(noInit, { recursive: true });
    writeFileSync(path.join(noInit, 'baseline.py'), 'def build():\n    return None\n');
    const cases: Array<[string[], RegExp]> = [
      [['compete', 'score', 'friedman-regression', '--methods', noInit], /has no __init__\.py/],
      [['compete', 'score', 'friedman-regression', '--methods', path.join(scratch, 'nowhere')], /methods folder not found/],
      [['compete', 'score', 'no-such-task', '--methods', noInit], /competition not found/],
      [['compete', 'score', 'friedman-regression'], /missing --methods DIR/],
      [['compete', 'score', 'friedman-regression', '--methods', noInit, '--split', 'train'], /--split must be one of/],
      [['compete', 'audit'], /missing competition: lab compete audit/],
      [['compete', 'audit', 'friedman-regression', '--all'], /--all takes no competition name/],
      [['compete', 'audit', 'friedman-regression', '--methods', noInit], /--methods applies to lab compete score/],
    ];
    const results = await Promise.all(cases.map(([args]) => lab(args, 60_000)));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
  }, 120_000);

  it("scores a task's own reference methods near reference.json, and a broken folder as failed with the reason", async () => {
    for (const name of SHIPPED) {
      const { reference } = await loadCompetition(name);
      const ref = await lab(['compete', 'score', name, '--methods', path.join(COMPETITIONS_DIR, name, 'reference', 'methods'), '--json']);
      expect(ref.code, ref.stderr).toBe(0);
      const s = JSON.parse(ref.stdout);
      expect(s, s.reason).toMatchObject({ task: name, split: 'test', status: 'scored', success: true });
      // Within the measured tolerance (which covers one data draw's spread), or a few % of the gap.
      const gap = Math.abs(reference!.reference.score - reference!.baseline.score);
      expect(Math.abs(s.score - reference!.reference.score)).toBeLessThanOrEqual(Math.max(reference!.tolerance, 0.05 * gap));
    }
    const broken = path.join(scratch, 'broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, '__init__.py'), 'from .method import build  # noqa: F401\n');
    writeFileSync(path.join(broken, 'method.py'), 'def build():\n    raise RuntimeError("this method is not finished")\n');
    const failed = await lab(['compete', 'score', 'sales-forecast', '--methods', broken]);
    expect(failed.code, failed.stderr).toBe(3);
    expect(failed.stdout).toMatch(/status: failed \(run\.py exited with code 1: [\s\S]*this method is not finished/);
    expect(failed.stdout).toMatch(/baseline 83\.\d+|baseline \d/);
    // Every scratch run was removed.
    expect(readdirSync(scratch).filter((f) => f.startsWith('lab-scratch-'))).toEqual([]);
  }, 240_000);

  it('every shipped task passes the audit: no cheat beats the honest reference by more than 5% of the gap', async () => {
    const started = Date.now();
    // seed-search gets 15 s a task, not 36: enough to find the old tasks' seeds (27182, 31337); 8 s missed 31337.
    const run = await lab(['compete', 'audit', '--all', '--json'], 600_000, { LAB_AUDIT_SEARCH_SECONDS: '15' });
    const audits = JSON.parse(run.stdout) as TaskAudit[];
    const shipped = audits.filter((a) => SHIPPED.includes(a.task));
    expect(shipped.map((a) => a.task).sort()).toEqual(SHIPPED);
    for (const audit of shipped) {
      expect(audit.applies).toBe(true);
      expect(audit.cheats.map((c) => c.cheat)).toEqual(CHEATS.map((c) => c.name));
      const table = audit.cheats.map((c) => `${c.cheat} ${c.status} ${c.score ?? ''} ${c.relativeImprovement ?? ''}% ${c.reason ?? c.said ?? ''}`).join('\n');
      expect(audit.failures, `${audit.task}:\n${table}`).toEqual([]);
      expect(audit.passed).toBe(true);
      // A cheat that copies the planted label file is caught, never scored.
      expect(audit.cheats.find((c) => c.cheat === 'label-file')!.status).toBe('invalid');
    }
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(scratch).filter((f) => f.startsWith('lab-scratch-'))).toEqual([]);
    console.log(`audit of ${shipped.length} tasks: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 600_000);
});
