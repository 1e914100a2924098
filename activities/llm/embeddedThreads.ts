/**
 * How many CPU threads the embedded model computes with. More threads than free cores makes
 * llama.cpp crawl: on a machine busy with other processes, 2 threads fell to 0.7 tokens/s where
 * 1 thread kept 11–13. So the model takes the cores that are free now (the cores less those busy
 * over a short sample of /proc/stat, at least 1), one under tests and CI (which run several things
 * in parallel), or exactly LAB_EMBEDDED_THREADS when that is set. Not the 1-minute load average:
 * it still counts the set-up script that `npm run demo` runs just before, and gave the demo one
 * thread on an idle machine (6.9 tokens/s instead of 19).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { configError } from './errors.js';

export interface ThreadInputs {
  /** Cores this process may use (os.availableParallelism()). */
  cores: number;
  /** Cores busy now (measured over a short sample); 0 where it cannot be measured. */
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

/** The thread count for this process now: the cores less those busy over the last `sampleMs`. */
export async function embeddedThreads(env: NodeJS.ProcessEnv = process.env, sampleMs = 500): Promise<number> {
  // An explicit count or a test run settles it without a sample.
  const settled = Boolean(env.LAB_EMBEDDED_THREADS?.trim()) || isSet(env.VITEST) || isSet(env.CI);
  const load = settled ? 0 : ((await busyCores(sampleMs)) ?? os.loadavg()[0] ?? 0);
  return chooseEmbeddedThreads({ cores: os.availableParallelism(), load, env });
}

/** How many cores were busy over `sampleMs`, from two readings of /proc/stat; undefined where there is none. */
export async function busyCores(sampleMs: number): Promise<number | undefined> {
  const first = await cpuTimes();
  if (!first) return undefined;
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const second = await cpuTimes();
  if (!second) return undefined;
  const total = second.total - first.total;
  if (total <= 0) return undefined;
  return ((total - (second.idle - first.idle)) / total) * os.availableParallelism();
}

/** The machine's CPU time so far (all cores), and the idle part of it (idle + iowait). */
async function cpuTimes(): Promise<{ total: number; idle: number } | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
    const fields = line?.trim().split(/\s+/).slice(1).map(Number);
    if (!fields || fields.length < 5 || fields.some((n) => !Number.isFinite(n))) return undefined;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, idle: fields[3] + fields[4] };
  } catch {
    return undefined;
  }
}
