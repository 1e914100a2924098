/**
 * Worker process entry: `lab worker` or `tsx workers/main.ts`.
 * Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, LAB_WORKER_QUEUES (default research,llm), tuning in workers/env.ts.
 */
import { NativeConnection } from '@temporalio/worker';
import { connectionOptions, temporalTarget } from './env.js';
import { createLabWorkers, parseQueues } from './createWorkers.js';

export async function runWorkerProcess(queuesList = process.env.LAB_WORKER_QUEUES ?? 'research,llm'): Promise<void> {
  const queues = parseQueues(queuesList);
  const target = temporalTarget();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(connectionOptions(target));
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${target.address} (${(err as Error).message.split('\n')[0]}); start it with \`lab server\` or set TEMPORAL_ADDRESS`,
    );
  }
  try {
    const workers = await createLabWorkers({ connection, namespace: target.namespace, queues });
    console.log(`worker ready: queues ${queues.join(', ')} on ${target.address} (namespace ${target.namespace})`);
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  runWorkerProcess().catch((err) => {
    console.error(`worker failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
