/**
 * Preflight: start one real command in the sandbox, before any paid call, and report what a later
 * experiment would trip over: the sandbox does not start, the network is reachable, the sandbox
 * Python is missing a package. One message per problem.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sandboxLimitsSchema } from '../../common/environment.js';
import { SANDBOX_PYTHON_PACKAGES } from './python.js';
import type { SandboxBackend } from './types.js';

/** Prints one JSON line: interfaces seen, whether the worker's loopback listener answered, failed imports. */
const PROBE = `
import importlib, json, socket, sys
report = {"python": sys.version.split()[0], "prefix": sys.prefix, "missing": {}}
try:
    lines = open("/proc/net/dev").read().splitlines()[2:]
    report["interfaces"] = [l.split(":")[0].strip() for l in lines]
except OSError as e:
    report["interfaces"] = None
port = int(sys.argv[1])
if port:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        report["hostLoopback"] = True
    except OSError:
        report["hostLoopback"] = False
for name in sys.argv[2].split(","):
    try:
        importlib.import_module(name)
    except Exception as e:
        report["missing"][name] = type(e).__name__ + ": " + str(e)
print(json.dumps(report))
`;

interface ProbeReport {
  python: string;
  prefix: string;
  interfaces: string[] | null;
  hostLoopback?: boolean;
  missing: Record<string, string>;
}

export async function runPreflightProbe(backend: SandboxBackend, opts: { checkNetwork: boolean }): Promise<string[]> {
  const label = `sandbox (${backend.name})`;
  const problems: string[] = [];
  const workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'lab-preflight-'));
  await fs.chmod(workspace, 0o755);
  // A listener on the worker's own loopback: a sandbox that shares the host's network reaches it.
  const listener = opts.checkNetwork ? await listenOnLoopback() : undefined;
  try {
    await fs.writeFile(path.join(workspace, 'probe.py'), PROBE);
    const port = listener ? (listener.address() as net.AddressInfo).port : 0;
    const result = await backend.exec({
      workspace,
      command: `python probe.py ${port} ${SANDBOX_PYTHON_PACKAGES.join(',')}`,
      limits: sandboxLimitsSchema.parse({ wallSeconds: 120, outputBytes: 1 << 20 }),
    });
    await fs.rm(result.outputFile, { force: true });
    const line = result.stdoutTail.trim().split('\n').pop() ?? '';
    let report: ProbeReport;
    try {
      report = JSON.parse(line) as ProbeReport;
    } catch {
      const why = result.killedBy ? `stopped by the ${result.killedBy} limit` : `exit code ${result.exitCode}`;
      return [`${label}: the sandbox Python did not run (${why}): ${result.stderrTail.trim().split('\n').slice(-2).join(' / ') || 'no output'}; run \`npm run setup\``];
    }
    if (opts.checkNetwork) {
      const external = (report.interfaces ?? []).filter((i) => i !== 'lo');
      if (report.interfaces === null) problems.push(`${label}: cannot tell whether the network is cut off (no /proc/net/dev inside)`);
      else if (external.length) problems.push(`${label}: the network is reachable inside the sandbox (interfaces: ${external.join(', ')})`);
      if (report.hostLoopback) problems.push(`${label}: the sandbox reached a port on the worker's own 127.0.0.1`);
    }
    for (const [name, error] of Object.entries(report.missing)) {
      problems.push(`sandbox Python: cannot import ${name} (${error}); run \`npm run setup\` to install the sandbox packages`);
    }
  } catch (err) {
    problems.push(`${label}: ${(err as Error).message}`);
  } finally {
    listener?.close();
    await fs.rm(workspace, { recursive: true, force: true });
  }
  return problems;
}

function listenOnLoopback(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
