/** `lab worker`: workers for the research queue and the LLM queues (tuned by LAB_* variables). */
import { z } from 'zod';
import { DEFAULT_WORKER_QUEUES, parseQueues } from '../../common/queues.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { list } from '../lib/options.js';

export const workerCommand = defineCommand({
  summary: 'start workers for the research, llm, sandbox and literature task queues (tuned by LAB_* env, see README)',
  usage: 'lab worker [--queues all|research,llm,sandbox,literature|llm.openai,...] [--verbose]',
  options: { queues: { type: 'string' }, verbose: { type: 'boolean' } },
  positionals: [],
  schema: z.object({
    queues: flag((v) => {
      // Checked here so a typo is a usage error before the (slow) worker package loads.
      list('--queues')(v);
      parseQueues(v);
      return v;
    }),
    verbose: booleanFlag,
  }),
  async run({ queues, verbose }) {
    // Loaded lazily: the worker package (native bridge, bundler) is slow to import.
    const { runWorkerProcess } = await import('../../workers/main.js');
    await runWorkerProcess(queues ?? process.env.LAB_WORKER_QUEUES ?? DEFAULT_WORKER_QUEUES, { verbose });
  },
});
