/**
 * How many CPU threads the embedded model computes with. More threads than free cores makes
 * llama.cpp crawl: on a machine busy with other processes, 2 threads fell to 0.7 tokens/s where
 * 1 thread kept 11–13. So the model takes the cores that are free now (the cores less the 1-minute
 * load average, at least 1), one under tests and CI (which run several things in parallel), or
 * exactly LAB_EMBEDDED_THREADS when that is set.
 */
import os from 'node:os';
import { configError } from './errors.js';

export interface ThreadInputs {
  /** Cores this process may use (os.availableParallelism()). */
  cores: number;
  /** The 1-minute load average (os.loadavg()[0]); 0 where the platform has none. */
  load: number;
  env: NodeJS.ProcessEnv;
}

const isSet = (value: string | undefined) => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';

/** Pure: the thread count for these cores, load and environment; throws a config error for a bad LAB_EMBEDDED_THREADS. */
export function chooseEmbeddedThreads({ cores, load, env }: ThreadInputs): number {
  const configured = env.LAB_EMBEDDED_THREADS?.trim();
  if (configured !== undefined && configured !== '') {
    if (!/^\d+$/.test(configured) || Number(configured) < 1) {
      throw configError(`LAB_EMBEDDED_THREADS must be a positive whole number of threads, got "${env.LAB_EMBEDDED_THREADS}" (unset it to use the free cores)`);
    }
    return Number(configured);
  }
  // Tests and CI run workers and suites side by side: one thread each keeps generation from collapsing.
  if (isSet(env.VITEST) || isSet(env.CI)) return 1;
  const all = Math.max(1, Math.floor(cores));
  const busy = Number.isFinite(load) && load > 0 ? load : 0;
  return Math.min(all, Math.max(1, Math.round(all - busy)));
}

/** The thread count for this process now. */
export function embeddedThreads(env: NodeJS.ProcessEnv = process.env): number {
  return chooseEmbeddedThreads({ cores: os.availableParallelism(), load: os.loadavg()[0] ?? 0, env });
}
