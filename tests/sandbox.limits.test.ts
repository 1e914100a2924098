/**
 * Hard limits of the bubblewrap sandbox, on real processes: memory counted for the whole sandbox
 * (memfd, /dev/shm), and the workspace's bytes, files and depth, each by the kernel where the host
 * allows (root here: a memory cgroup, an ext4 image per command) and by the supervisor's sampled
 * fallback (what a worker that is not root gets). After every over-limit program the next step,
 * a host-side size walk and chown still work, and nothing is left on the host.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../activities/config.js';
import { BubblewrapBackend, type ExecResult } from '../activities/sandbox/index.js';
import { chownTree, scanTree } from '../activities/sandbox/workspaceSize.js';
import { sandboxLimitsSchema, type SandboxLimits } from '../common/environment.js';
import { tempDir } from './helpers/temporal.js';

const bwrapInstalled = existsSync('/usr/bin/bwrap') || execFileSync('sh', ['-c', 'command -v bwrap || true'], { encoding: 'utf8' }).trim() !== '';
const isRoot = process.getuid?.() === 0;

/** The worker's own v1 memory cgroup folder (where per-command cgroups are made), if any. */
function ownMemoryCgroup(): string | undefined {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f.length >= 3 && f[1].split(',').includes('memory'));
  const dir = line && path.join('/sys/fs/cgroup/memory', line.slice(2).join(':'));
  return dir && existsSync(dir) ? dir : undefined;
}

function labCgroups(base: string | undefined, pid: number): string[] {
  if (!base) return [];
  return readdirSync(base).filter((n) => n.startsWith(`lab-sandbox-${pid}-`));
}

/** Workspace images mounted by process `pid` (other test files may run their own meanwhile). */
function labMounts(pid = process.pid): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`/.lab-disk-${pid}-`));
}

function ourTemps(pid = process.pid): string[] {
  return readdirSync(os.tmpdir()).filter((n) => n.startsWith(`lab-exec-${pid}-`) || n.startsWith(`lab-output-lab-exec-${pid}-`));
}

/** A folder tree deeper than PATH_MAX, made on the host (fd-relative, as a hostile program would). */
function deepTree(root: string, levels = 40, name = 'd'.repeat(200)): void {
  execFileSync('python3', ['-c', `import os\nos.chdir(${JSON.stringify(root)})\nfor i in range(${levels}):\n    os.mkdir(${JSON.stringify(name)}); os.chdir(${JSON.stringify(name)})\nopen('leaf', 'w').write('x')`]);
}

const MEMFD = `python -c "
import os, time
fds = []
for i in range(12):
    fd = os.memfd_create('x%d' % i); fds.append(fd)
    for j in range(8): os.write(fd, b'x' * (16 << 20))
    print('held', (i + 1) * 128, 'MB', flush=True)
time.sleep(20)
"`;
const SHM = 'for i in 1 2 3 4 5 6; do head -c 200000000 /dev/zero > /dev/shm/x$i && echo "shm $i"; done; sleep 20';
const MANY_FILES = `python -c "
import os
os.makedirs('many', exist_ok=True)
for i in range(1000000):
    open('many/f%d' % i, 'w').close()
print('made a million')
"`;
const DEEP = `python -c "
import os
for i in range(100):
    os.mkdir('d' * 200); os.chdir('d' * 200)
open('leaf', 'w').write('deep')
print('depth bytes', 100 * 201)
"`;
const WRITERS = (mbEach: number) => `for i in $(seq 12); do head -c ${mbEach * 1000000} /dev/zero > w$i.bin & done; wait; du -sk . | cut -f1 > /tmp/du; echo "inside $(cat /tmp/du) KB"`;

describe('hard limits of the bubblewrap sandbox', () => {
  it('has bubblewrap installed (npm run setup installs it)', () => expect(bwrapInstalled).toBe(true));

  const outputs: string[] = [];
  afterAll(() => {
    for (const f of outputs) rmSync(f, { force: true });
  });

  async function run(backend: BubblewrapBackend, workspace: string, command: string, limits: Partial<SandboxLimits> = {}): Promise<ExecResult> {
    const result = await backend.exec({ workspace, command, limits: sandboxLimitsSchema.parse({ wallSeconds: 30, ...limits }) });
    outputs.push(result.outputFile);
    return result;
  }

  /** A plain step, a bounded size walk and chown all still work, and the host holds nothing of the step. */
  async function stillWorks(backend: BubblewrapBackend, workspace: string): Promise<void> {
    const ok = await run(backend, workspace, 'echo ok');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdoutTail).toBe('ok\n');
    const started = Date.now();
    const scan = await scanTree(workspace, { maxEntries: 100_000, maxDepth: 64 });
    expect(scan.complete).toBe(true);
    expect(await chownTree(workspace, 0, 0)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(labMounts()).toEqual([]);
    expect(labCgroups(ownMemoryCgroup(), process.pid)).toEqual([]);
    expect(ourTemps().filter((n) => !outputs.some((o) => o.endsWith(n)))).toEqual([]);
  }

  // Root: the kernel's limits. `walk` and `none`: the sampled fallback a worker that is not root gets.
  const modes = [
    { name: 'kernel-enforced (root: memory cgroup, ext4 image)', env: {} },
    { name: 'sampled fallback (no cgroup, no image)', env: { LAB_SANDBOX_CGROUP: 'none', LAB_SANDBOX_DISK: 'walk' } },
  ];

  for (const mode of modes) {
    describe(mode.name, () => {
      const backend = new BubblewrapBackend({ ...process.env, ...mode.env });
      const kernel = Object.keys(mode.env).length === 0;

      it('runs as root here, with a memory cgroup and loop devices to use', () => {
        // CI and this suite run as root; the fallback is then forced by the variables above.
        expect(isRoot).toBe(true);
        if (kernel) expect(ownMemoryCgroup()).toBeDefined();
      });

      it('memfd allocations beyond memoryMb are killed as memory', async () => {
        const workspace = tempDir('limits-memfd');
        const r = await run(backend, workspace, MEMFD, { memoryMb: 512 });
        expect(r.killedBy).toBe('memory');
        expect(r.killedDetail).toMatch(/512 MB for the whole sandbox/);
        const held = Math.max(...[...r.stdoutTail.matchAll(/held (\d+) MB/g)].map((m) => Number(m[1])));
        // Kernel: the write that passes the limit never completes. Sampled: within a sample or so.
        expect(held).toBeLessThanOrEqual(kernel ? 512 : 1536);
        expect(r.durationMs).toBeLessThan(10_000);
        await stillWorks(backend, workspace);
      });

      it('/dev/shm allocations beyond memoryMb are killed as memory', async () => {
        const workspace = tempDir('limits-shm');
        const r = await run(backend, workspace, SHM, { memoryMb: 512, workspaceMb: 2048, fileSizeMb: 1024 });
        expect(r.killedBy).toBe('memory');
        // /dev/shm is as large as memoryMb: the third file cannot fit beside anything else.
        expect(r.stdoutTail).not.toMatch(/shm 3/);
        expect(r.durationMs).toBeLessThan(10_000);
        await stillWorks(backend, workspace);
      });

      it('a million files: stopped at the file limit within the wall time, nothing of them stays', async () => {
        const workspace = tempDir('limits-files');
        writeFileSync(path.join(workspace, 'keep.txt'), 'kept');
        // The sampled walk runs on the host's own file system, slower to fill: a smaller limit keeps the test short.
        const workspaceFiles = kernel ? 100_000 : 5000;
        const r = await run(backend, workspace, MANY_FILES, { workspaceFiles, wallSeconds: 60 });
        expect(r.killedBy).toBe('disk');
        expect(r.killedDetail).toContain(`more than ${workspaceFiles} files`);
        expect(r.stdoutTail).not.toMatch(/made a million/);
        expect(r.durationMs).toBeLessThan(60_000);
        expect(readdirSync(workspace)).toEqual(['keep.txt']);
        await stillWorks(backend, workspace);
      });

      it('a tree deeper than PATH_MAX: refused as disk (depth), nothing of it stays', async () => {
        const workspace = tempDir('limits-deep');
        const r = await run(backend, workspace, DEEP);
        expect(r.stdoutTail).toMatch(/depth bytes 20100/);
        expect(r.killedBy).toBe('disk');
        expect(r.killedDetail).toMatch(/deeper than 64 levels/);
        expect(readdirSync(workspace)).toEqual([]);
        await stillWorks(backend, workspace);
      });

      it('12 parallel writers cannot push the workspace more than 10% past workspaceMb', async () => {
        const workspace = tempDir('limits-writers');
        const r = await run(backend, workspace, WRITERS(100), { workspaceMb: 256, fileSizeMb: 1024, wallSeconds: 60 });
        expect(r.killedBy).toBe('disk');
        expect(r.killedDetail).toMatch(/over 256 MB/);
        if (kernel) {
          // Measured inside, at the end: the file system never held more.
          const inside = Number(/inside (\d+) KB/.exec(r.stdoutTail)?.[1]);
          expect(inside).toBeLessThanOrEqual(256 * 1024 * 1.1);
        }
        const after = await scanTree(workspace);
        expect(after.bytes).toBeLessThanOrEqual(256 * 2 ** 20 * 1.1);
        await stillWorks(backend, workspace);
      });

      it('a step within its limits keeps what it wrote, changed and removed', async () => {
        const workspace = tempDir('limits-keep');
        writeFileSync(path.join(workspace, 'old.txt'), 'old');
        writeFileSync(path.join(workspace, 'gone.txt'), 'gone');
        const r = await run(backend, workspace, `${WRITERS(5)}; echo changed > old.txt; rm gone.txt; mkdir -p a/b; ln -s ../old.txt a/link; echo hi > a/b/c.txt`, { workspaceMb: 256 });
        expect(r.exitCode).toBe(0);
        expect(r.killedBy).toBeUndefined();
        expect(readFileSync(path.join(workspace, 'old.txt'), 'utf8')).toBe('changed\n');
        expect(existsSync(path.join(workspace, 'gone.txt'))).toBe(false);
        expect(readFileSync(path.join(workspace, 'a/b/c.txt'), 'utf8')).toBe('hi\n');
        expect(readFileSync(path.join(workspace, 'a/link'), 'utf8')).toBe('changed\n');
        expect((await scanTree(workspace)).bytes).toBeGreaterThanOrEqual(12 * 5_000_000);
        await stillWorks(backend, workspace);
      });

      it('a workspace already over its file limit runs the step so that the agent can clean it up', async () => {
        const workspace = tempDir('limits-legacy');
        mkdirSync(path.join(workspace, 'junk'));
        for (let i = 0; i < 600; i += 1) writeFileSync(path.join(workspace, 'junk', `f${i}`), '');
        const first = await run(backend, workspace, 'ls junk | wc -l', { workspaceFiles: 500 });
        expect(first.stdoutTail).toBe('600\n');
        expect(first.killedBy).toBe('disk');
        const clean = await run(backend, workspace, 'rm -rf junk && echo cleaned', { workspaceFiles: 500 });
        expect(clean.exitCode).toBe(0);
        expect(clean.killedBy).toBeUndefined();
        expect(readdirSync(workspace)).toEqual([]);
        await stillWorks(backend, workspace);
      });
    });
  }
});

describe('host-side walks on hostile trees', () => {
  it('scanTree and chownTree survive a tree deeper than PATH_MAX and names that are not UTF-8', async () => {
    const root = tempDir('limits-walk');
    deepTree(root, 40);
    execFileSync('python3', ['-c', `open(${JSON.stringify(root)}.encode() + b'/bad-\\xff-name', 'w').write('x')`]);
    const scan = await scanTree(root, { maxDepth: 64 });
    expect(scan.over).toBe('depth');
    const wide = await scanTree(root, { maxDepth: 10_000 });
    expect(wide.over).toBe('depth');
    const flat = await scanTree(root, { maxDepth: 0 + 1 });
    expect(flat.skipped.join(' ')).toMatch(/not UTF-8/);
    expect(await chownTree(root, 12345, 12345)).toEqual([]);
    expect(execFileSync('find', [root, '-name', 'leaf', '-uid', '12345'], { encoding: 'utf8' })).toMatch(/leaf/);
    execFileSync('rm', ['-rf', root]);
  });
});

describe('after a worker crash', () => {
  it('the next command removes the cgroup and the workspace image a SIGKILLed worker left', async () => {
    const dir = tempDir('limits-crash');
    const workspace = path.join(dir, 'workspaces', 'run-crash');
    mkdirSync(workspace, { recursive: true });
    const script = path.join(dir, 'worker.mts');
    writeFileSync(
      script,
      `import { BubblewrapBackend } from ${JSON.stringify(path.join(PROJECT_ROOT, 'activities/sandbox/index.ts'))};
import { sandboxLimitsSchema } from ${JSON.stringify(path.join(PROJECT_ROOT, 'common/environment.ts'))};
await new BubblewrapBackend().exec({ workspace: ${JSON.stringify(workspace)}, command: 'sleep 60', limits: sandboxLimitsSchema.parse({ wallSeconds: 60 }) });
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_ROOT, stdio: 'ignore' });
    const base = ownMemoryCgroup();
    const deadline = Date.now() + 30_000;
    while (!(labMounts(child.pid).length && labCgroups(base, child.pid!).length)) {
      if (Date.now() > deadline) throw new Error('the worker did not start its command');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(labCgroups(base, child.pid!)).toHaveLength(1);
    expect(readdirSync(path.dirname(workspace)).some((n) => n.startsWith(`.lab-disk-${child.pid}-`))).toBe(true);

    const next = await new BubblewrapBackend().exec({ workspace, command: 'echo ok', limits: sandboxLimitsSchema.parse({ wallSeconds: 30 }) });
    rmSync(next.outputFile, { force: true });
    expect(next.stdoutTail).toBe('ok\n');
    // Stale cgroups go asynchronously (their processes may still be dying): allow a moment.
    await new Promise((r) => setTimeout(r, 500));
    expect(labCgroups(base, child.pid!)).toEqual([]);
    expect(labMounts(child.pid)).toEqual([]);
    expect(readdirSync(path.dirname(workspace)).filter((n) => n.startsWith('.lab-disk-'))).toEqual([]);
    expect(execFileSync('losetup', ['-a'], { encoding: 'utf8' })).not.toContain(dir);
  });
});
