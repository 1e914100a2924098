/**
 * Workspaces an experiment's code filled with odd things: result files named `dev(1).csv` or with a
 * newline, a name that is not UTF-8, a FIFO and a socket, a tree deeper than PATH_MAX, a folder of
 * 200,000 empty files. Snapshots, results collection and listTree finish promptly, never throw, keep
 * what they can (odd names stored under plain names, the originals listed) and report the rest.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPlainArtifactName, plainArtifactName } from '../activities/artifacts.js';
import type { LocalArtifactStore } from '../activities/store/localStore.js';
import { listTree } from '../activities/competition/files.js';
import { createEnvironmentActivities, snapshotWorkspace } from '../activities/environment/index.js';
import { diffSnapshots, SNAPSHOT_MAX_ENTRIES } from '../activities/environment/workspace.js';
import { createResultsActivities, type CollectedFile, type ExperimentResults } from '../activities/experiment/results.js';
import { paperEvidence, runRelative, writeProvenance } from '../activities/stages/evidence.js';
import { BubblewrapBackend } from '../activities/sandbox/index.js';
import type { EnvAction, Observation } from '../common/environment.js';
import type { ArtifactRef } from '../common/schemas.js';
import { useScratchEnv } from './helpers/scratchEnv.js';
import { tempDir } from './helpers/temporal.js';

const scratch = useScratchEnv('hostile', { LAB_WORKSPACE_DIR: 'workspaces' });
let store: LocalArtifactStore;
beforeAll(() => {
  store = scratch.store;
});

function workspace(runId: string): string {
  return path.join(process.env.LAB_WORKSPACE_DIR!, runId);
}

/** Host-side Python for what is quicker made there (200,000 files, a tree deeper than PATH_MAX). */
function python(script: string, cwd: string): void {
  execFileSync('python3', ['-c', script], { cwd, stdio: 'inherit' });
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await work();
  const seconds = (performance.now() - start) / 1000;
  console.log(`${label}: ${seconds.toFixed(2)} s`);
  return { value, seconds };
}

async function manifestOf(
  result: ExperimentResults,
): Promise<{ files: CollectedFile[]; skipped?: Array<{ path: string; reason: string }>; skippedCount?: number; truncated?: string; partial?: string[]; note?: string }> {
  const ref = result.files.find((f) => f.path.endsWith('/experiment/collected.json'));
  expect(ref).toBeDefined();
  return JSON.parse(await store.getText(ref!));
}

/** The record of a command that wrote `paths` (as the env step would have reported it). */
function ranCommand(paths: string[]): { action: EnvAction; observation: Observation } {
  return {
    action: { action: 'run', command: 'python3 experiment.py' },
    observation: { action: 'run', ok: true, text: 'done', exitCode: 0, filesChanged: paths.map((p) => ({ path: p, change: 'added' as const, bytes: 1 })) },
  };
}

describe('plain artifact names', () => {
  it('keeps plain names, and makes odd ones plain, readable, deterministic and distinct', () => {
    expect(plainArtifactName('results/metrics.csv')).toBe('results/metrics.csv');
    const a = plainArtifactName('results/dev(1).csv');
    expect(a).toMatch(/^results\/dev_1_-x[0-9a-f]{10}\.csv$/);
    expect(plainArtifactName('results/dev(1).csv')).toBe(a);
    expect(plainArtifactName('results/dev[1].csv')).not.toBe(a);
    for (const odd of ['results/a\nb.csv', 'results/..', 'results/ü.png', `results/${'x'.repeat(300)}.csv`, 'results/+x', 'sub dir (2)/a b.py']) {
      const plain = plainArtifactName(odd);
      expect(isPlainArtifactName(plain), plain).toBe(true);
    }
  });
});

describe('odd result file names, written by code in the sandbox', () => {
  it('collects dev(1).csv and a name with a newline under plain names and lists the originals; a non-UTF-8 name, a FIFO and a socket are reported', async () => {
    const runId = 'hostile-names';
    const { envStep } = createEnvironmentActivities({ store, backend: new BubblewrapBackend() });
    const activity = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const program = [
      'import os',
      'os.makedirs("results", exist_ok=True)',
      'open("results/dev(1).csv", "w").write("split,accuracy\\ndev,0.9137\\n")',
      'open("results/a\\nb.csv", "w").write("split,f1\\ntest,0.8426\\n")',
      'open("results/plain.csv", "w").write("split,loss\\ntrain,0.3318\\n")',
      'open("results/log.txt", "w").write("my own log 0.5521\\n")',
      'open("results/fig (1).png", "wb").write(b"\\x89PNG\\r\\n\\x1a\\n")',
      'print("wrote results")',
    ].join('\n');
    const write: Observation = await activity.run(envStep, { runId, step: 1, action: { action: 'write_file' as const, path: 'experiment.py', content: program } });
    expect(write.ok).toBe(true);
    const action: EnvAction = { action: 'run', command: 'python experiment.py' };
    const observation: Observation = await activity.run(envStep, { runId, step: 2, action });
    expect(observation.exitCode, observation.text).toBe(0);
    // The snapshot diff saw the odd names as the code wrote them.
    const changed = observation.filesChanged.map((f) => f.path);
    expect(changed).toEqual(expect.arrayContaining(['results/dev(1).csv', 'results/a\nb.csv', 'results/plain.csv']));
    // What a sandbox may not copy back from its own file system (a root worker runs commands on an
    // image of the workspace), made here: a name that is not UTF-8, a FIFO and a socket.
    python(
      ['import os, socket', 'open(b"results/bad\\xff.csv", "w").write("x,y\\n1,2\\n")', 'os.mkfifo("results/pipe.csv")', 's = socket.socket(socket.AF_UNIX); s.bind("results/sock.csv")'].join('\n'),
      workspace(runId),
    );
    const snap = await snapshotWorkspace(runId);
    expect(snap.skipped).toEqual([{ path: 'results/bad\\xff.csv', reason: 'name is not valid UTF-8' }]);
    expect(snap.entries.find((e) => e.path === 'results/pipe.csv')?.kind).toBe('other');

    const { collectExperimentResults } = createResultsActivities({ store });
    const result = await collectExperimentResults({ runId, step: 2, pending: { action, observation }, end: 'finished', summary: 'Dev accuracy reached 0.9137 and test F1 0.8426.' });
    expect(result.status).toBe('succeeded');
    const manifest = await manifestOf(result);
    const byPath = new Map(manifest.files.map((f) => [f.path, f]));
    expect(byPath.get('results/plain.csv')?.stored).toBe('results/plain.csv');
    expect(byPath.get('results/dev(1).csv')?.stored).toMatch(/^results\/dev_1_-x[0-9a-f]{10}\.csv$/);
    expect(byPath.get('results/a\nb.csv')?.stored).toMatch(/^results\/a_b-x[0-9a-f]{10}\.csv$/);
    expect(byPath.get('results/fig (1).png')).toMatchObject({ as: 'figure', stored: expect.stringMatching(/^results\/fig_1_-x[0-9a-f]{10}\.png$/) });
    // The code's own log.txt does not take the place of the collector's.
    expect(byPath.get('results/log.txt')?.stored).toMatch(/^results\/log-x[0-9a-f]{10}\.txt$/);
    expect(manifest.skipped).toEqual(
      expect.arrayContaining([
        { path: 'results/bad\\xff.csv', reason: 'name is not valid UTF-8' },
        { path: 'results/pipe.csv', reason: 'not copied: not a regular file' },
        { path: 'results/sock.csv', reason: 'not copied: not a regular file' },
      ]),
    );
    expect(result.skipped).toBe(3);
    for (const f of manifest.files) {
      expect(existsSync(path.join(store.root, 'runs', runId, f.stored)), f.stored).toBe(true);
    }

    // results.md names the files as the code did and gives the stored name.
    const md = await store.getText(result.results);
    expect(md).toContain(`### results/dev(1).csv (stored as \`${byPath.get('results/dev(1).csv')!.stored}\`)`);
    expect(md).toContain('### results/a\\x0ab.csv (stored as');
    expect(md).toContain('| dev | 0.9137 |');
    expect(md).toContain(`![results/fig (1).png](${byPath.get('results/fig (1).png')!.stored.slice('results/'.length)})`);
    expect(md).toContain('## Files not collected');
    expect(result.provenance.unmatched).toBe(0);
    expect(readFileSync(path.join(store.root, result.log.path), 'utf8')).toContain('python experiment.py');

    // Downstream: the paper's evidence, its provenance check and the review's document lists take the stored names.
    const attachments: ArtifactRef[] = [result.log, ...result.files];
    const evidence = await paperEvidence(store, attachments);
    expect(evidence).toContain(`](${byPath.get('results/fig (1).png')!.stored})`);
    expect(evidence).toContain('# Experiment log (results/log.txt');
    expect(evidence).not.toContain('my own log');
    const { report } = await writeProvenance(store, runId, { 'paper.md': 'Our method reaches 0.9137 on dev and 0.8426 F1 on test.' }, result.measured);
    expect(report).toMatchObject({ status: 'ok', results: 2, flagged: 0 });
    expect(report.sources.map((s) => s.file)).toEqual(expect.arrayContaining([byPath.get('results/dev(1).csv')!.stored]));
    for (const ref of result.files) expect(isPlainArtifactName(runRelative(ref))).toBe(true);
  });
});

describe('hostile trees: deeper than PATH_MAX, 200,000 files, unreadable entries', () => {
  it('a tree deeper than PATH_MAX is skipped and reported by snapshot, collection and listTree', async () => {
    const runId = 'hostile-deep';
    const ws = workspace(runId);
    mkdirSync(path.join(ws, 'results'), { recursive: true });
    writeFileSync(path.join(ws, 'results', 'metrics.csv'), 'method,score\nours,0.7712\n');
    // 30 folders of 200 characters: 6,000 bytes below the workspace (chdir keeps each call short).
    python(
      ['import os', 'for top in ("deep", "results/deep"):', '    here = os.getcwd()', '    os.makedirs(top); os.chdir(top)', '    for i in range(30):', '        os.mkdir("d" * 200); os.chdir("d" * 200)', '    open("x.csv", "w").write("a,b\\n1,2\\n"); open("x.py", "w").write("print(1)\\n")', '    os.chdir(here)'].join('\n'),
      ws,
    );

    const snap = await timed('snapshot of a tree deeper than PATH_MAX', () => snapshotWorkspace(runId));
    expect(snap.value.truncated).toBe(false);
    expect(snap.value.skippedCount).toBe(2);
    expect(snap.value.skipped?.every((s) => s.reason.startsWith('path longer than the system allows'))).toBe(true);
    expect(snap.value.note).toMatch(/2 entries skipped/);
    // Nothing under a skipped folder counts as deleted.
    expect(diffSnapshots(snap.value, snap.value)).toEqual([]);

    const { collectExperimentResults } = createResultsActivities({ store });
    const collected = await timed('collection of a tree deeper than PATH_MAX', () =>
      collectExperimentResults({ runId, step: 1, pending: ranCommand(['results/metrics.csv']), end: 'finished' }),
    );
    expect(collected.value.status).toBe('succeeded');
    const manifest = await manifestOf(collected.value);
    expect(manifest.files.map((f) => f.path)).toEqual(['results/metrics.csv']);
    expect(manifest.skipped?.map((s) => s.path.split('/')[0])).toEqual(['results', 'deep']);
    expect(manifest.skipped?.every((s) => /path longer than the system allows/.test(s.reason))).toBe(true);

    const listing = await timed('listTree of a tree deeper than PATH_MAX', () => listTree(ws));
    expect(listing.value.files).toEqual(['results/metrics.csv']);
    expect(listing.value.unlistedCount).toBe(2);
    for (const t of [snap, collected, listing]) expect(t.seconds).toBeLessThan(20);
  });

  it('a folder of 200,000 empty files: snapshot, collection and listTree stop at their bounds promptly and say so', async () => {
    // Made on a tmpfs where there is one: creating 200,000 files on this disk takes minutes, which
    // is the test's set-up, not what it measures.
    const fast = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/lab-hostile-') : undefined;
    const previous = process.env.LAB_WORKSPACE_DIR;
    if (fast) process.env.LAB_WORKSPACE_DIR = fast;
    try {
      await manyFiles();
    } finally {
      process.env.LAB_WORKSPACE_DIR = previous;
      if (fast) execFileSync('rm', ['-rf', fast]);
    }
  }, 300_000);

  async function manyFiles(): Promise<void> {
    const runId = 'hostile-many';
    const ws = workspace(runId);
    mkdirSync(path.join(ws, 'results'), { recursive: true });
    mkdirSync(path.join(ws, 'src'), { recursive: true });
    writeFileSync(path.join(ws, 'results', 'metrics.csv'), 'method,score\nours,0.6631\n');
    writeFileSync(path.join(ws, 'src', 'train.py'), 'print("train")\n');
    const made = performance.now();
    python('import os\nos.mkdir("many")\nfor i in range(200000): os.close(os.open(f"many/f{i:06d}.py", os.O_CREAT | os.O_WRONLY, 0o644))', ws);
    console.log(`made 200,000 empty files in ${((performance.now() - made) / 1000).toFixed(1)} s (${ws})`);

    const snap = await timed('snapshot of 200,000 files', () => snapshotWorkspace(runId));
    expect(snap.value.truncated).toBe(true);
    expect(snap.value.entries.length).toBeLessThanOrEqual(SNAPSHOT_MAX_ENTRIES);
    // The huge folder is listed in part; the folders beside it in full.
    const paths = new Set(snap.value.entries.map((e) => e.path));
    for (const p of ['results', 'results/metrics.csv', 'src/train.py', 'many']) expect(paths.has(p), p).toBe(true);
    expect(snap.value.note).toMatch(/1 folder listed in part, having too many entries \(many\)/);

    const { collectExperimentResults } = createResultsActivities({ store });
    const collected = await timed('collection of 200,000 files', () => collectExperimentResults({ runId, step: 1, pending: ranCommand(['results/metrics.csv']), end: 'finished' }));
    expect(collected.value.status).toBe('succeeded');
    const manifest = await manifestOf(collected.value);
    expect(manifest.partial).toEqual(['many']);
    expect(manifest.files.filter((f) => f.as === 'code')).toHaveLength(100);
    expect(manifest.files.map((f) => f.path)).toContain('src/train.py');
    expect(manifest.files.filter((f) => f.as === 'result').map((f) => f.path)).toEqual(['results/metrics.csv']);
    expect(manifest.skipped).toEqual([{ path: expect.stringMatching(/^many\/f\d{6}\.py and \d+ more$/), reason: 'not copied: over the limit of 100 code files' }]);
    expect(manifest.skippedCount).toBeGreaterThan(9_000);
    expect(manifest.note).toMatch(/1 folder listed in part/);
    // History holds a bounded list of refs, not one per file of the workspace.
    expect(collected.value.files.length).toBeLessThan(150);
    expect(await store.getText(collected.value.results)).toContain('## Files not collected');

    const listing = await timed('listTree of 200,000 files', () => listTree(ws));
    expect(listing.value.truncated).toBe('entries');
    expect(listing.value.files.length).toBeLessThanOrEqual(100_000);
    for (const t of [snap, collected, listing]) expect(t.seconds).toBeLessThan(20);
  }

  it('an unreadable folder is reported, not thrown', async (ctx) => {
    // Root reads a folder whatever its mode: as root, the walks run as nobody (setpriv).
    const asRoot = process.getuid?.() === 0;
    if (asRoot && !existsSync('/usr/bin/setpriv')) return ctx.skip();
    const base = tempDir('hostile-unreadable');
    const runId = 'hostile-unreadable';
    const ws = path.join(base, 'workspaces', runId);
    mkdirSync(path.join(ws, 'results', 'locked'), { recursive: true });
    mkdirSync(path.join(base, 'artifacts'));
    writeFileSync(path.join(ws, 'results', 'metrics.csv'), 'method,score\nours,0.5511\n');
    for (const dir of [base, path.join(base, 'workspaces'), path.join(base, 'artifacts')]) chmodSync(dir, 0o777);
    chmodSync(path.join(ws, 'results', 'locked'), 0o000);
    try {
      const tsx = path.resolve('node_modules/.bin/tsx');
      const helper = fileURLToPath(new URL('./helpers/walkAsOtherUser.ts', import.meta.url));
      const args = [helper, path.join(base, 'workspaces'), runId, path.join(base, 'artifacts')];
      const out = asRoot
        ? execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', `HOME=${base}`, tsx, ...args], { encoding: 'utf8' })
        : execFileSync(tsx, args, { encoding: 'utf8' });
      const seen = JSON.parse(out.trim().split('\n').at(-1)!);
      const locked = [{ path: 'results/locked', reason: 'cannot be read (EACCES)' }];
      expect(seen).toEqual({ snapshot: locked, listing: locked, status: 'succeeded', collected: locked });
    } finally {
      chmodSync(path.join(ws, 'results', 'locked'), 0o755);
      execFileSync('rm', ['-rf', base]);
    }
  });
});
