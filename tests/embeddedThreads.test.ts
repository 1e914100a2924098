/** The embedded model's thread count: the free cores, 1 under tests and CI, or LAB_EMBEDDED_THREADS (validated). */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { busyCores, chooseEmbeddedThreads, embeddedThreads } from '../activities/llm/embeddedThreads.js';

const quiet = {} as NodeJS.ProcessEnv;

describe('embedded model threads', () => {
  it('uses the cores left free by those busy now, at least 1 and at most every core', () => {
    expect(chooseEmbeddedThreads({ cores: 2, load: 0.1, env: quiet })).toBe(2);
    expect(chooseEmbeddedThreads({ cores: 2, load: 0.9, env: quiet })).toBe(1);
    expect(chooseEmbeddedThreads({ cores: 8, load: 3.2, env: quiet })).toBe(5);
    // A machine busier than it has cores still gets one thread.
    expect(chooseEmbeddedThreads({ cores: 2, load: 7.5, env: quiet })).toBe(1);
    // No load average (Windows reports 0) or a nonsense one: every core.
    expect(chooseEmbeddedThreads({ cores: 4, load: 0, env: quiet })).toBe(4);
    expect(chooseEmbeddedThreads({ cores: 4, load: Number.NaN, env: quiet })).toBe(4);
    expect(chooseEmbeddedThreads({ cores: 0, load: 0, env: quiet })).toBe(1);
  });

  it('uses 1 thread under vitest and CI unless LAB_EMBEDDED_THREADS says otherwise', async () => {
    expect(chooseEmbeddedThreads({ cores: 16, load: 0, env: { VITEST: 'true' } })).toBe(1);
    expect(chooseEmbeddedThreads({ cores: 16, load: 0, env: { CI: 'true' } })).toBe(1);
    expect(chooseEmbeddedThreads({ cores: 16, load: 0, env: { CI: 'false' } })).toBe(16);
    expect(chooseEmbeddedThreads({ cores: 16, load: 0, env: { CI: '1', LAB_EMBEDDED_THREADS: '3' } })).toBe(3);
    // This very process runs under vitest.
    expect(await embeddedThreads()).toBe(process.env.LAB_EMBEDDED_THREADS ? Number(process.env.LAB_EMBEDDED_THREADS) : 1);
  });

  it('measures busy cores from /proc/stat: a process spinning on one core counts as about one', async () => {
    const spinner = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const busy = await busyCores(1000);
      // Other processes of the suite may be running too; the spinner alone is one core's worth.
      expect(busy).toBeGreaterThanOrEqual(0.8);
      expect(busy).toBeLessThanOrEqual(os.availableParallelism());
      // Without the vitest marker, the thread count leaves the spinner's core alone.
      expect(await embeddedThreads({}, 1000)).toBeLessThanOrEqual(Math.max(1, os.availableParallelism() - 1 + 0.5));
    } finally {
      spinner.kill('SIGKILL');
    }
  });

  it('takes LAB_EMBEDDED_THREADS as given, even beyond the cores', () => {
    expect(chooseEmbeddedThreads({ cores: 2, load: 5, env: { LAB_EMBEDDED_THREADS: '2' } })).toBe(2);
    expect(chooseEmbeddedThreads({ cores: 2, load: 0, env: { LAB_EMBEDDED_THREADS: ' 4 ' } })).toBe(4);
    // Empty is unset.
    expect(chooseEmbeddedThreads({ cores: 2, load: 0, env: { LAB_EMBEDDED_THREADS: '' } })).toBe(2);
  });

  it.each(['0', '-1', '1.5', 'two', '2threads', 'NaN'])('refuses LAB_EMBEDDED_THREADS=%s with a config error naming the variable', (value) => {
    expect(() => chooseEmbeddedThreads({ cores: 2, load: 0, env: { LAB_EMBEDDED_THREADS: value } })).toThrow(
      new RegExp(`LAB_EMBEDDED_THREADS must be a positive whole number of threads, got "${value.replace('.', '\\.')}"`),
    );
    try {
      chooseEmbeddedThreads({ cores: 2, load: 0, env: { LAB_EMBEDDED_THREADS: value } });
    } catch (err) {
      expect((err as { type?: string; nonRetryable?: boolean }).nonRetryable).toBe(true);
    }
  });
});
