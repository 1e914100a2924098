/**
 * Builds the workers of one process: `research` runs workflows, each `llm.<provider>` queue runs
 * that provider's LLM-calling stage activities. Each queue can also run alone, on its own hosts.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { ProviderName } from '../common/modelSpec.js';
import { LLM_QUEUES, TASK_QUEUES, type TaskQueueName } from '../common/queues.js';
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
    } else {
      workers.push(
        await Worker.create({
          connection: options.connection,
          namespace: options.namespace,
          taskQueue: queue,
          activities,
          ...tuning.llm(queue.slice('llm.'.length) as ProviderName),
        }),
      );
    }
  }
  return workers;
}

const QUEUE_HELP = `queues: research, llm (every provider), or one of ${LLM_QUEUES.join(', ')}`;

/** `research,llm` → research plus one queue per LLM provider; `llm.anthropic` serves one provider. */
export function parseQueues(list: string): TaskQueueName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new Error(`no queue given (${QUEUE_HELP})`);
  const queues = new Set<TaskQueueName>();
  for (const n of names) {
    if (n === 'research') queues.add('research');
    else if (n === 'llm') LLM_QUEUES.forEach((q) => queues.add(q));
    else if ((LLM_QUEUES as string[]).includes(n)) queues.add(n as TaskQueueName);
    else throw new Error(`unknown queue "${n}" (${QUEUE_HELP})`);
  }
  return [...queues];
}
