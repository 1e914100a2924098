/**
 * `lab status`'s "waiting for a worker" from a pending activity (scripts/lib/runs.ts workerWaitOf):
 * activities beat a second in, then every third of the timeout at most every 5 s
 * (activities/heartbeat.ts), so silence is judged from the last beat, or from a second after the
 * start when there was none.
 */
import { msToTs } from '@temporalio/common/lib/time.js';
import { describe, expect, it } from 'vitest';
import { workerWaitOf } from '../scripts/lib/runs.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const at = (msAgo: number) => msToTs(NOW - msAgo);
const started = (o: { startedMsAgo: number; beatMsAgo?: number; timeoutS?: number }) =>
  ({
    activityType: { name: 'runStage' },
    state: 2,
    lastStartedTime: at(o.startedMsAgo),
    ...(o.beatMsAgo !== undefined ? { lastHeartbeatTime: at(o.beatMsAgo) } : {}),
    activityOptions: { heartbeatTimeout: msToTs((o.timeoutS ?? 60) * 1000) },
  }) as unknown as Parameters<typeof workerWaitOf>[0];

describe('workerWaitOf', () => {
  it('an activity that never beat is silent from a second after its start, not only after its whole timeout', () => {
    expect(workerWaitOf(started({ startedMsAgo: 10_000 }), NOW)).toBeUndefined();
    const wait = workerWaitOf(started({ startedMsAgo: 17_000 }), NOW);
    expect(wait?.activity).toBe('runStage');
    expect(wait?.timesOutAt).toBe(new Date(NOW - 17_000 + 60_000).toISOString());
  });

  it('an activity that beat is silent after half its timeout, at most 15 s, from its last beat', () => {
    expect(workerWaitOf(started({ startedMsAgo: 100_000, beatMsAgo: 14_000 }), NOW)).toBeUndefined();
    expect(workerWaitOf(started({ startedMsAgo: 100_000, beatMsAgo: 16_000 }), NOW)?.lastHeard).toBe(new Date(NOW - 16_000).toISOString());
    // A 6 s timeout: silent after 3 s.
    expect(workerWaitOf(started({ startedMsAgo: 100_000, beatMsAgo: 2_000, timeoutS: 6 }), NOW)).toBeUndefined();
    expect(workerWaitOf(started({ startedMsAgo: 100_000, beatMsAgo: 4_000, timeoutS: 6 }), NOW)).toBeDefined();
  });
});
