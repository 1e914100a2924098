/**
 * `npm run demo`: starts the local stack (dev server + worker) if it is not already up, runs one
 * example task end to end, prints where everything is, and stops what it started.
 *
 *   npm run demo [-- <task-folder|task-name>] [-- --model SPEC]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ArtifactStore } from '../activities/artifacts.js';
import { artifactRoot, defaultServerDbFile, labHome, PROJECT_ROOT } from '../activities/config.js';
import { resolveAutoModel } from '../common/modelSpec.js';
import { connectClient } from './lib/client.js';
import { portOpen, spawnDevServer, waitForPort } from './lib/devServer.js';
import { followRun } from './lib/follow.js';
import { formatRun } from './lib/format.js';
import { prepareRun, startRun } from './lib/runs.js';
import { runLink } from './lib/uiLink.js';

const PORT = 7233;

function startWorker(logFile: string): Promise<ChildProcess> {
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
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });

  try {
    if (await portOpen(PORT)) {
      console.log(`using the Temporal server already running on localhost:${PORT}`);
    } else {
      console.log(`starting the Temporal dev server (data in ${defaultServerDbFile()})`);
      const server = spawnDevServer({ port: PORT, uiPort: PORT + 1000, dbFile: defaultServerDbFile(), logFile: path.join(home, 'server.log') });
      started.push(server);
      await waitForPort(PORT, 60_000, server);
    }
    console.log('starting a worker (queues research, llm)');
    started.push(await startWorker(path.join(home, 'worker.log')));

    const { client, close } = await connectClient();
    try {
      const store = new ArtifactStore(artifactRoot());
      // The embedded model is slow and weak: a short experiment loop keeps the demo to minutes.
      const experiment = model.startsWith('embedded') ? { maxSteps: 6, wallSeconds: 900 } : undefined;
      const { workflowId, input } = await prepareRun({ task, model, experiment }, store);
      await startRun(client, workflowId, input);
      console.log(`\nTemporal UI  ${runLink(workflowId)}`);
      console.log(`run id       ${workflowId}`);
      console.log(`task         ${input.task.name}`);
      console.log(`model        ${model}`);
      if (model === 'embedded') {
        console.log(
          '             (no API key set: the embedded Gemma 3 270M model writes every stage on this CPU. It is tiny and\n' +
            '              its text is weak; each output file names the model that wrote it. Set ANTHROPIC_API_KEY or\n' +
            '              OPENAI_API_KEY for real research.)',
        );
      }
      console.log(`outputs      ${store.runFolder(workflowId)}\n`);
      const view = await followRun(client, workflowId, { artifactRoot: store.root });
      console.log(`\n${formatRun(view, store.root)}`);
      console.log(`\nnext: \`npx lab show ${workflowId}\` prints the paper; \`npx lab server\` brings the UI back with this run in it.`);
      return view.result?.status === 'completed' ? 0 : 1;
    } finally {
      await close();
    }
  } finally {
    stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
