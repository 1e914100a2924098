/**
 * Hostile programs against the default sandbox (bubblewrap), on real processes: each gets a clear
 * recorded outcome (which limit stopped it, or which error it met), and a plain command still
 * works afterwards. Limits are small so the file stays fast.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../activities/config.js';
import { BubblewrapBackend, UnsafeProcessBackend, UNSAFE_WARNING, type ExecResult, type SandboxBackend } from '../activities/sandbox/index.js';
import { sandboxLimitsSchema, type SandboxLimits } from '../common/environment.js';
import { tempDir } from './helpers/temporal.js';
import { hostProcessesWith } from './helpers/processes.js';

const PLANTED_KEY = 'sk-planted-hostile-test-0123456789';
const bwrapInstalled = existsSync('/usr/bin/bwrap') || execFileSync('sh', ['-c', 'command -v bwrap || true'], { encoding: 'utf8' }).trim() !== '';


let unique = 0;
function marker(name: string): string {
  unique += 1;
  return `lab-hostile-${name}-${process.pid}-${unique}`;
}

// The set-up script installs bubblewrap; without it this suite fails (it is the isolation under test) rather than skip.
describe('hostile programs in the bubblewrap sandbox', () => {
  it('has bubblewrap installed (npm run setup installs it)', () => expect(bwrapInstalled).toBe(true));

  const saved = { HOME: process.env.HOME, OPENAI_API_KEY: process.env.OPENAI_API_KEY };
  let labHome: string;
  let workspace: string;
  let otherWorkspace: string;
  let fakeHome: string;
  let hostTcp: net.Server;
  let hostTcpConnections = 0;
  const backend: SandboxBackend = new BubblewrapBackend();
  const outputs: string[] = [];

  beforeAll(async () => {
    labHome = tempDir('hostile');
    workspace = path.join(labHome, 'workspaces', 'run-a');
    otherWorkspace = path.join(labHome, 'workspaces', 'run-b');
    mkdirSync(workspace, { recursive: true });
    mkdirSync(otherWorkspace, { recursive: true });
    writeFileSync(path.join(otherWorkspace, 'secret.txt'), 'other run');
    mkdirSync(path.join(labHome, 'artifacts'), { recursive: true });
    writeFileSync(path.join(labHome, 'artifacts', 'idea.md'), 'artifact');
    // The worker's own home and keys, as a person's machine would have them.
    fakeHome = tempDir('home');
    mkdirSync(path.join(fakeHome, '.ssh'));
    writeFileSync(path.join(fakeHome, '.ssh', 'id_test'), 'PRIVATE KEY');
    process.env.HOME = fakeHome;
    process.env.OPENAI_API_KEY = PLANTED_KEY;
    hostTcp = net.createServer((s) => {
      hostTcpConnections += 1;
      s.end('hello from the host\n');
    });
    await new Promise<void>((r) => hostTcp.listen(0, '127.0.0.1', () => r()));
  });

  afterAll(() => {
    hostTcp?.close();
    for (const file of outputs) rmSync(file, { force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  async function run(command: string, limits: Partial<SandboxLimits> = {}): Promise<ExecResult> {
    const result = await backend.exec({ workspace, command, limits: sandboxLimitsSchema.parse({ wallSeconds: 20, ...limits }) });
    outputs.push(result.outputFile);
    return result;
  }

  // The worker stays healthy: after every hostile program a plain command works.
  afterEach(async () => {
    const ok = await run('echo still-fine');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdoutTail).toBe('still-fine\n');
  });

  it('has no network: TCP to the internet and to the host, and DNS, all fail', async () => {
    const port = (hostTcp.address() as net.AddressInfo).port;
    const probe = `
import json, socket
interfaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
out = {"interfaces": interfaces}
def attempt(name, fn):
    try:
        fn(); out[name] = "connected"
    except OSError as e:
        out[name] = type(e).__name__ + ": " + str(e)
# Only with loopback alone may the probe try an outside address: no packet can leave then.
if interfaces == ["lo"]:
    attempt("internet", lambda: socket.create_connection(("1.1.1.1", 80), timeout=3).close())
    attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
attempt("host", lambda: socket.create_connection(("127.0.0.1", ${port}), timeout=3).close())
print(json.dumps(out))
`;
    writeFileSync(path.join(workspace, 'net.py'), probe);
    const r = await run('python net.py');
    const out = JSON.parse(r.stdoutTail) as Record<string, unknown>;
    expect(out.interfaces).toEqual(['lo']);
    expect(out.internet).toMatch(/Network is unreachable/);
    expect(out.dns).toMatch(/gaierror|Temporary failure|not known|Try again/);
    expect(out.host).toMatch(/Connection refused/);
    expect(hostTcpConnections).toBe(0);
  });

  it('cannot write outside the workspace: system folders are read-only, /tmp is private, the project is not there', async () => {
    const tag = marker('write');
    const r = await run(
      `for p in /etc/${tag} /usr/${tag} /${tag} ${PROJECT_ROOT}/${tag} ${labHome}/${tag}; do (echo x > "$p") 2>/dev/null && echo "WROTE $p" || echo "refused $p"; done; echo x > /tmp/${tag} && echo "private tmp ok"`,
    );
    expect(r.stdoutTail).not.toMatch(/WROTE/);
    expect(r.stdoutTail.match(/refused/g)).toHaveLength(5);
    expect(r.stdoutTail).toMatch(/private tmp ok/);
    expect(existsSync(`/tmp/${tag}`)).toBe(false);
    expect(existsSync(path.join(PROJECT_ROOT, tag))).toBe(false);
    expect(existsSync(path.join(labHome, tag))).toBe(false);
  });

  it("cannot read the user's home (~/.ssh), the project's files, .lab or another run's workspace", async () => {
    const targets = [
      path.join(fakeHome, '.ssh', 'id_test'),
      path.join(saved.HOME ?? '/root', '.ssh'),
      path.join(PROJECT_ROOT, 'package.json'),
      path.join(PROJECT_ROOT, '.lab'),
      path.join(labHome, 'artifacts', 'idea.md'),
      path.join(otherWorkspace, 'secret.txt'),
      '/workspace/../workspaces/run-b/secret.txt',
    ];
    const r = await run(targets.map((t) => `(cat '${t}' || ls '${t}') >/dev/null 2>&1 && echo "READ ${t}" || echo "hidden ${t}"`).join('; '));
    expect(r.stdoutTail).not.toMatch(/READ/);
    expect(r.stdoutTail.match(/hidden/g)).toHaveLength(targets.length);
  });

  it("cannot find the worker's API keys in its environment or any process's", async () => {
    const r = await run('env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; echo done');
    expect(r.stdoutTail).toMatch(/HOME=\/workspace/);
    expect(r.stdoutTail).not.toContain(PLANTED_KEY);
    expect(r.stdoutTail).not.toContain('OPENAI_API_KEY');
    expect(readFileSync(r.outputFile, 'utf8')).not.toContain(PLANTED_KEY);
  });

  it('a fork bomb is stopped by the process limit and leaves nothing behind', async () => {
    const tag = marker('forkbomb');
    const r = await run(`bash -c ':(){ :|:& };:'; sleep 5; : ${tag}`, { processes: 32, wallSeconds: 15 });
    expect(r.killedBy).toBe('processes');
    const retrying = await run(`python -c "
import os, time
while True:
    try: os.fork()
    except OSError: time.sleep(0.01)
" ${tag}`, { processes: 32, wallSeconds: 15 });
    expect(retrying.killedBy).toBe('processes');
    expect(retrying.usage.peakProcesses).toBeLessThanOrEqual(32);
    expect(hostProcessesWith(tag)).toEqual([]);
  });

  it('a memory bomb is stopped by the memory limit, in one process or spread over several', async () => {
    const single = await run('python -c "x = []\nwhile True: x.append(b\\"x\\" * (32 * 2**20))"', { memoryMb: 256 });
    expect(single.killedBy).toBe('memory');
    expect(single.stderrTail).toMatch(/MemoryError/);
    const spread = await run('for i in 1 2 3 4; do python -c "x = b\\"x\\" * (150 * 2**20); import time; time.sleep(30)" & done; wait', { memoryMb: 256 });
    expect(spread.killedBy).toBe('memory');
    expect(spread.durationMs).toBeLessThan(10_000);
  });

  it('an infinite loop is stopped by the wall-time limit', async () => {
    const r = await run('while :; do :; done', { wallSeconds: 1.5 });
    expect(r.killedBy).toBe('wall_time');
    expect(r.durationMs).toBeGreaterThanOrEqual(1400);
    expect(r.durationMs).toBeLessThan(5000);
  });

  it('a CPU burner is stopped by the CPU-time limit, in one process or spread over several', async () => {
    const single = await run('python -c "while True: pass"', { cpuSeconds: 1 });
    expect(single.killedBy).toBe('cpu_time');
    expect(single.signal).toBe('SIGXCPU');
    const spread = await run('for i in 1 2 3; do python -c "while True: pass" & done; wait', { cpuSeconds: 1 });
    expect(spread.killedBy).toBe('cpu_time');
  });

  it('huge output is cut at the output limit and the command killed', async () => {
    const r = await run('yes "hostile output"', { outputBytes: 64 * 1024 });
    expect(r.killedBy).toBe('output');
    expect(r.stdoutBytes).toBe(64 * 1024);
    expect(readFileSync(r.outputFile, 'utf8')).toMatch(/--- stdout \(65536 bytes\) ---/);
  });

  it('a file over the file size limit, or a workspace over its limit, counts as disk', async () => {
    const file = await run('head -c 3000000 /dev/zero > big.bin', { fileSizeMb: 1 });
    expect(file.killedBy).toBe('disk');
    expect(file.signal).toBe('SIGXFSZ');
    const total = await run('for i in 1 2 3; do head -c 900000 /dev/zero > part$i.bin; done', { fileSizeMb: 1, workspaceMb: 2 });
    expect(total.killedBy).toBe('disk');
    await run('rm -f big.bin part*.bin');
  });

  it('children that outlive their parent (setsid, nohup, double fork) are dead when the step ends', async () => {
    const tag = marker('daemon');
    const r = await run(
      `setsid sh -c "sleep 300; : ${tag}" >/dev/null 2>&1 &
       nohup sh -c "sleep 300; : ${tag}" >/dev/null 2>&1 &
       python -c "
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(300)
" ${tag}
       echo parent-done`,
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdoutTail).toContain('parent-done');
    expect(hostProcessesWith(tag)).toEqual([]);
  });

  it('runs the sandbox Python with its packages, and pip is not there', async () => {
    const r = await run('python -c "import numpy, pandas, sklearn, scipy, matplotlib, sys; print(sys.prefix)"; python -m pip --version');
    expect(r.stdoutTail).toBe('/opt/lab-python\n');
    expect(r.stderrTail).toMatch(/No module named pip/);
  });

  it('a cancelled command is killed with its whole tree', async () => {
    const tag = marker('cancel');
    const controller = new AbortController();
    const pending = backend.exec(
      { workspace, command: `sh -c "sleep 300; : ${tag}" & sleep 300; : ${tag}`, limits: sandboxLimitsSchema.parse({}) },
      { signal: controller.signal },
    );
    await waitUntil(() => hostProcessesWith(tag).length >= 2);
    controller.abort();
    const r = await pending;
    outputs.push(r.outputFile);
    expect(r.killedBy).toBe('cancelled');
    expect(hostProcessesWith(tag)).toEqual([]);
  });
});

describe('the unsafe-process backend (explicit opt-in)', () => {
  it('says loudly that nothing is isolated, yet clears the environment and kills its whole tree', async () => {
    const workspace = tempDir('unsafe');
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = PLANTED_KEY;
    try {
      const backend = new UnsafeProcessBackend();
      expect(backend.isolated).toBe(false);
      expect(backend.warning).toBe(UNSAFE_WARNING);
      expect(UNSAFE_WARNING).toMatch(/Nothing is isolated/);
      const tag = marker('unsafe');
      const r = await backend.exec({
        workspace,
        command: `env; setsid sh -c "sleep 300; : ${tag}" >/dev/null 2>&1 & echo started`,
        limits: sandboxLimitsSchema.parse({ wallSeconds: 10 }),
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdoutTail).not.toContain(PLANTED_KEY);
      expect(r.stdoutTail).toContain(`HOME=${realpathSync(workspace)}`);
      rmSync(r.outputFile, { force: true });
      // SIGKILLed processes may take a moment to leave /proc on a loaded machine (seen once in CI);
      // one that escaped the kill would still be there after 5 s (it sleeps 300 s).
      const deadline = Date.now() + 5000;
      while (hostProcessesWith(tag).length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(hostProcessesWith(tag)).toEqual([]);
      const loop = await backend.exec({ workspace, command: 'while :; do :; done', limits: sandboxLimitsSchema.parse({ wallSeconds: 1 }) });
      expect(loop.killedBy).toBe('wall_time');
      rmSync(loop.outputFile, { force: true });
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });
});

/**
 * A worker that is not root runs bwrap in a user namespace; here (root) that is shown by running
 * the backend in a child process as uid 65534. Its Python is a bare venv of the system Python (the
 * project's may live under root's home, which that uid cannot enter).
 */
describe.skipIf(!bwrapInstalled || process.getuid?.() !== 0 || !existsSync('/usr/bin/python3') || !existsSync('/usr/bin/setpriv'))(
  'bubblewrap as an unprivileged worker (user namespace)',
  () => {
    it('holds the process limit and hides keys and network', async () => {
      const dir = tempDir('userns');
      execFileSync('chmod', ['755', dir]);
      execFileSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', path.join(dir, 'venv')]);
      const workspace = path.join(dir, 'ws');
      mkdirSync(workspace);
      execFileSync('chown', ['-R', '65534:65534', dir]);
      const script = path.join(dir, 'probe.mts');
      writeFileSync(
        script,
        `import { BubblewrapBackend } from ${JSON.stringify(path.join(PROJECT_ROOT, 'activities/sandbox/index.ts'))};
import { sandboxLimitsSchema } from ${JSON.stringify(path.join(PROJECT_ROOT, 'common/environment.ts'))};
const b = new BubblewrapBackend();
const limits = sandboxLimitsSchema.parse({ processes: 16, wallSeconds: 15 });
const bomb = await b.exec({ workspace: ${JSON.stringify(workspace)}, limits, command: 'python3 -c "import os, time\\nwhile True:\\n    try: os.fork()\\n    except OSError: time.sleep(0.01)"' });
const look = await b.exec({ workspace: ${JSON.stringify(workspace)}, limits, command: 'id -u; env; cat /proc/net/dev; cat /proc/*/environ 2>/dev/null | tr "\\\\0" "\\\\n"' });
console.log(JSON.stringify({ bomb: bomb.killedBy, peak: bomb.usage.peakProcesses, look: look.stdoutTail }));
`,
      );
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', script], {
          cwd: PROJECT_ROOT,
          env: { PATH: process.env.PATH, HOME: dir, LAB_SANDBOX_VENV: path.join(dir, 'venv'), OPENAI_API_KEY: PLANTED_KEY, TMPDIR: dir },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`probe failed (${code}): ${stderr}`))));
      });
      const report = JSON.parse(out.trim().split('\n').pop()!) as { bomb: string; peak: number; look: string };
      expect(report.bomb).toBe('processes');
      expect(report.peak).toBeLessThanOrEqual(16);
      expect(report.look).toMatch(/^65534\n/);
      expect(report.look).not.toContain(PLANTED_KEY);
      expect(report.look).not.toMatch(/eth|ens|wlan|veth/);
    });
  },
);

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
