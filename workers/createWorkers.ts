/**
 * Builds the workers of one process: `research` runs workflows, `llm` runs LLM-calling stage
 * activities. Each queue can also run alone, on its own hosts.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { TASK_QUEUES, type TaskQueueName } from '../common/queues.js';
import { workerTuning } from './env.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface LabWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  queues: TaskQueueName[];
  activities?: object;
  /** Pre-built bundle (tests build it once); otherwise the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  env?: NodeJS.ProcessEnv;
}

export async function createLabWorkers(options: LabWorkerOptions): Promise<Worker[]> {
  const tuning = workerTuning(options.env);
  const activities = options.activities ?? createActivities();
  const workers: Worker[] = [];
  for (const queue of options.queues) {
    if (queue === 'research') {
      workers.push(
        await Worker.create({
          connection: options.connection,
          namespace: options.namespace,
          taskQueue: TASK_QUEUES.research,
          ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
          activities,
          ...tuning.research,
        }),
      );
    } else if (queue === 'llm') {
      workers.push(
        await Worker.create({
          connection: options.connection,
          namespace: options.namespace,
          taskQueue: TASK_QUEUES.llm,
          activities,
          ...tuning.llm,
        }),
      );
    } else {
      throw new Error(`the ${queue} queue has no worker yet (it arrives with the sandbox)`);
    }
  }
  return workers;
}

export function parseQueues(list: string): TaskQueueName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (n !== 'research' && n !== 'llm') throw new Error(`unknown queue "${n}" (queues: research, llm)`);
  }
  if (!names.length) throw new Error('no queue given (queues: research, llm)');
  return names as TaskQueueName[];
}
