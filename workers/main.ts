/**
 * Worker process entry: `lab worker` or `node --import tsx workers/main.ts [--verbose]`.
 * Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, LAB_WORKER_QUEUES (default all: research,llm,sandbox,literature), tuning in workers/env.ts.
 *
 * Quiet by default: one "worker ready" line per queue, then only warnings and errors. `verbose`
 * shows the SDK's INFO logs, webpack's report included. SIGINT/SIGTERM (or the `npx` that started
 * the process going away) shuts the workers down gracefully; a second signal exits at once.
 */
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { DEFAULT_WORKER_QUEUES, type TaskQueueName } from '../common/queues.js';
import { connectionOptions, handleShutdown, temporalTarget } from './env.js';
import { createLabWorkers, LabWorkerLogger, parseQueues } from './createWorkers.js';

export interface WorkerProcessOptions {
  /** Show the SDK's INFO logs (webpack's report, worker state changes). */
  verbose?: boolean;
}

/** Installs the SDK runtime with the lab's logger, leaving signals to {@link runWorkerProcess}. */
function installRuntime(verbose: boolean): void {
  try {
    Runtime.install({
      logger: new LabWorkerLogger(verbose),
      shutdownSignals: [],
      // The SDK core's own (Rust) log lines go through the lab's logger too: one format, no colour
      // codes, and a line repeated while the server is unreachable is shown once a minute.
      telemetryOptions: { logging: { filter: { core: verbose ? 'INFO' : 'WARN', other: 'WARN' }, forward: {} } },
    });
  } catch {
    // Already installed in this process (an embedding program or a test did it): keep theirs.
  }
}

function readyLine(queue: TaskQueueName, where: string): string {
  return queue === 'research' ? `worker ready: research (workflows + activities) on ${where}` : `worker ready: ${queue} (activities)`;
}

export async function runWorkerProcess(
  queuesList = process.env.LAB_WORKER_QUEUES ?? DEFAULT_WORKER_QUEUES,
  options: WorkerProcessOptions = {},
): Promise<void> {
  const queues = parseQueues(queuesList);
  const target = temporalTarget();
  installRuntime(Boolean(options.verbose));

  let workers: Worker[] | undefined;
  const shutDownWorkers = () => {
    for (const w of workers ?? []) if (w.getState() === 'RUNNING') w.shutdown();
  };
  const removeHandlers = handleShutdown({
    stop(reason) {
      if (!workers) {
        // Still connecting or bundling: nothing is running yet, so nothing to drain.
        process.stderr.write(`worker: stopped before it was ready (${reason})\n`);
        process.exit(reason === 'SIGINT' ? 130 : 143);
      }
      process.stderr.write(`worker: shutting down (${reason}); finishing in-flight tasks, press Ctrl-C again to force\n`);
      shutDownWorkers();
    },
    force() {
      process.stderr.write('worker: forced exit\n');
    },
  });

  let connection: NativeConnection | undefined;
  try {
    try {
      connection = await NativeConnection.connect(connectionOptions(target));
    } catch (err) {
      throw new Error(
        `cannot reach Temporal at ${target.address} (${(err as Error).message.split('\n')[0]}); start it with \`lab server\` or set TEMPORAL_ADDRESS`,
      );
    }
    workers = await createLabWorkers({ connection, namespace: target.namespace, queues, verbose: options.verbose });
    let failure: unknown;
    const running = workers.map((w) =>
      w.run().catch((err) => {
        // One worker failing stops the process: shut the others down so it exits with the error.
        failure ??= err;
        shutDownWorkers();
      }),
    );
    const where = target.namespace === 'default' ? target.address : `${target.address} (namespace ${target.namespace})`;
    for (const q of queues) console.log(readyLine(q, where));
    await Promise.all(running);
    if (failure) throw failure;
    process.stderr.write('worker: stopped\n');
  } finally {
    removeHandlers();
    await connection?.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  runWorkerProcess(undefined, { verbose: process.argv.includes('--verbose') }).then(
    () => process.exit(0),
    (err) => {
      console.error(`worker failed: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
