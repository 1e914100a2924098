/**
 * `npm run demo`: starts the local stack (dev server + worker) if it is not already up, runs one
 * example task end to end, prints where everything is, and stops what it started.
 *
 *   npm run demo [-- <task-folder|task-name>] [-- --model SPEC]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openArtifactStore } from '../activities/store/open.js';
import { defaultServerDbFile, labHome, PROJECT_ROOT } from '../activities/config.js';
import { resolveAutoModel } from '../common/modelSpec.js';
import { connectClient } from './lib/client.js';
import { portOpen, readServerState, spawnDevServer, waitForPort, type ServerState } from './lib/devServer.js';
import { followRun } from './lib/follow.js';
import { formatRun } from './lib/format.js';
import { prepareRun, startRun } from './lib/runs.js';
import { runLink } from './lib/uiLink.js';

const DEFAULT_PORT = 7233;

/** The embedded model is slow and weak: a short experiment loop keeps the demo (and bench:embedded) to minutes. */
export const EMBEDDED_EXPERIMENT = { maxSteps: 8, wallSeconds: 480 };

export type DemoServer =
  | { action: 'use'; port: number; why: string }
  | { action: 'start'; port: number; uiPort: number; why: string };

/**
 * Which Temporal server the demo uses. It attaches only to a server it knows is ours: the
 * `lab server` recorded in `<LAB_HOME>/server.json` (its process alive, its port open), or the
 * address the user set in TEMPORAL_ADDRESS. Otherwise it starts its own dev server: on 7233 when
 * that port is free, else on a free port (a server already on 7233 that `lab server` did not
 * record may be anyone's, with other workers polling our task queues).
 */
export async function chooseDemoServer(o: { preferredPort?: number; env?: NodeJS.ProcessEnv; state?: ServerState } = {}): Promise<DemoServer> {
  const env = o.env ?? process.env;
  const preferred = o.preferredPort ?? DEFAULT_PORT;
  if (env.TEMPORAL_ADDRESS) {
    const port = Number(env.TEMPORAL_ADDRESS.split(':').pop());
    return { action: 'use', port, why: `using the Temporal server at TEMPORAL_ADDRESS=${env.TEMPORAL_ADDRESS}` };
  }
  const state = o.state ?? readServerState();
  if (state && (await portOpen(state.port))) {
    return { action: 'use', port: state.port, why: `using the lab server already running on localhost:${state.port} (pid ${state.pid}, data in ${state.dbFile})` };
  }
  if (!(await portOpen(preferred)) && !(await portOpen(preferred + 1000))) {
    return { action: 'start', port: preferred, uiPort: preferred + 1000, why: 'starting the Temporal dev server' };
  }
  const { port, uiPort } = await freePortPair();
  return {
    action: 'start',
    port,
    uiPort,
    why: `port ${preferred} (or its UI port ${preferred + 1000}) is taken by a server \`lab server\` did not start here, so the demo does not attach to it; starting its own Temporal dev server on port ${port}`,
  };
}

function listenOn(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/** A free port whose UI port (port + 1000, as the dev server and the UI links expect) is free too. */
async function freePortPair(): Promise<{ port: number; uiPort: number }> {
  for (let i = 0; i < 50; i++) {
    const s = await listenOn(0);
    const port = s ? (s.address() as net.AddressInfo).port : 0;
    const ui = port && port + 1000 <= 65535 ? await listenOn(port + 1000) : undefined;
    await Promise.all([s, ui].map((x) => x && new Promise((r) => x.close(r))));
    if (ui) return { port, uiPort: port + 1000 };
  }
  throw new Error('found no free pair of ports for the Temporal server and its UI');
}

/** A worker for every queue, its output in logFile; resolves once it says it is ready. */
export function startWorker(logFile: string): Promise<ChildProcess> {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'main.ts')], {
    cwd: process.cwd(),
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`the worker exited (code ${code}); see ${logFile}`)));
  });
}

/**
 * The result tables of results.md (copied there from the files the experiment's code wrote), to
 * show what the run measured; undefined when it measured nothing.
 */
export function measuredResults(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const section = (heading: string) => new RegExp(`^## ${heading}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(text)?.[1].trim();
  const measured = section('Measured results');
  if (!measured) return undefined;
  // A small model may run the brief's example as it stands: what the numbers measure is said beside them.
  const example = section("The brief's example script, run as it stands");
  return `measured by the experiment's code (results/results.md):\n\n${measured.replace(/^### /gm, '')}${example ? `\n\nnote: ${example.replace(/^- /, '')}` : ''}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { model: { type: 'string' } }, allowPositionals: true });
  const task = positionals[0] ?? 'calibration-under-shift';
  const model = values.model ?? resolveAutoModel();
  const home = labHome();
  mkdirSync(home, { recursive: true });
  const started: ChildProcess[] = [];
  const stopAll = () => {
    for (const p of started.reverse()) if (p.exitCode === null) p.kill('SIGTERM');
  };
  // Ctrl-C or a kill: stop the server and worker this demo started, never leave them behind.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(code);
    });
  }

  try {
    const choice = await chooseDemoServer();
    if (choice.action === 'use') {
      console.log(choice.why);
      // A lab server on another port than 7233: the worker, the client and the UI links follow TEMPORAL_ADDRESS.
      process.env.TEMPORAL_ADDRESS ??= `localhost:${choice.port}`;
    } else {
      console.log(`${choice.why} (data in ${defaultServerDbFile()})`);
      const server = spawnDevServer({ port: choice.port, uiPort: choice.uiPort, dbFile: defaultServerDbFile(), logFile: path.join(home, 'server.log') });
      started.push(server);
      await waitForPort(choice.port, 60_000, server);
      // The worker, the client and the UI links all follow TEMPORAL_ADDRESS.
      process.env.TEMPORAL_ADDRESS = `localhost:${choice.port}`;
    }
    console.log('starting a worker (queues research, llm)');
    started.push(await startWorker(path.join(home, 'worker.log')));

    const { client, close } = await connectClient();
    try {
      const store = openArtifactStore();
      const experiment = model.startsWith('embedded') ? EMBEDDED_EXPERIMENT : undefined;
      const { workflowId, input } = await prepareRun({ task, model, experiment });
      await startRun(client, workflowId, input);
      console.log(`\nTemporal UI  ${runLink(workflowId)}`);
      console.log(`run id       ${workflowId}`);
      console.log(`task         ${input.task.name}`);
      console.log(`model        ${model}`);
      if (model === 'embedded') {
        console.log(
          '             (no API key set: the embedded Qwen2.5-Coder-1.5B-Instruct model (Q4_K_M, 1.1 GB, Apache-2.0)\n' +
            '              writes every stage on this CPU. It is small and slow; each output file names the model that\n' +
            '              wrote it. Set ANTHROPIC_API_KEY or OPENAI_API_KEY for real research.)',
        );
      }
      console.log(`outputs      ${store.locateRun(workflowId)}\n`);
      const view = await followRun(client, workflowId, { locate: (ref) => store.locate(ref) });
      console.log(`\n${formatRun(view, (ref) => store.locate(ref))}`);
      const measured = measuredResults((await store.readRunFile(workflowId, 'results/results.md'))?.toString('utf8'));
      if (measured) console.log(`\n${measured}`);
      console.log(`\nnext: \`npx lab show ${workflowId}\` prints the paper; \`npx lab server\` brings the UI back with this run in it.`);
      return view.result?.status === 'completed' ? 0 : 1;
    } finally {
      await close();
    }
  } finally {
    stopAll();
  }
}

// Run as a script (npm run demo), not when a test imports chooseDemoServer.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`demo failed: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
