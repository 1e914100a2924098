/** `lab worker`: workers for the research queue and the LLM queues (tuned by LAB_* variables). */
import { z } from 'zod';
import { DEFAULT_WORKER_QUEUES, parseQueues } from '../../common/queues.js';
import { SettingError } from '../../workers/temporalConfig.js';
import { metricsBindAddress } from '../../workers/metrics.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { list } from '../lib/options.js';

export const workerCommand = defineCommand({
  summary: 'start workers for the research, llm, sandbox and literature task queues (tuned by LAB_* env, see README)',
  usage: 'lab worker [--queues all|research,llm,sandbox,literature|llm.openai,...] [--metrics ip:port] [--verbose]',
  options: { queues: { type: 'string' }, metrics: { type: 'string' }, verbose: { type: 'boolean' } },
  positionals: [],
  schema: z.object({
    queues: flag((v) => {
      // Checked here so a typo is a usage error before the (slow) worker package loads.
      list('--queues')(v);
      parseQueues(v);
      return v;
    }),
    metrics: flag((v) => metricsBindAddress(v, '--metrics')),
    verbose: booleanFlag,
  }),
  async run({ queues, metrics, verbose }) {
    // Loaded lazily: the worker package (native bridge, bundler) is slow to import.
    const { runWorkerProcess } = await import('../../workers/main.js');
    try {
      await runWorkerProcess(queues ?? process.env.LAB_WORKER_QUEUES ?? DEFAULT_WORKER_QUEUES, { verbose, metricsAddress: metrics, metricsSetting: '--metrics' });
    } catch (err) {
      // A wrong setting (connection profile, metrics address, log format): one line, nothing started.
      if (err instanceof SettingError) throw new CliError(err.message, EXIT.usage);
      throw err;
    }
  },
});
