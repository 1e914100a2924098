/** LAB_LOG_FORMAT=json line shape (workers/logFormat.ts) and the run context an activity's input carries (workers/logContext.ts). */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { runContextOf } from '../workers/logContext.js';
import { jsonLogLine, logFormat } from '../workers/logFormat.js';

const timestampNanos = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5, 678)) * 1_000_000n;

describe('JSON log lines', () => {
  it('puts time, level, message, the lab run id, stage and activity type first; the Temporal run id is temporalRunId; no task token', () => {
    const line = jsonLogLine({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos,
      meta: { taskToken: 'c2VjcmV0', activityType: 'runStage', workflowId: 'exp-child-1', workflowRunId: '0195-abc', labRunId: 'calibration-0a1b', stage: 'experiment', attempt: 2, bytes: 10n },
    });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd()).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      time: '2026-01-02T03:04:05.678Z',
      level: 'WARN',
      message: 'Activity failed',
      runId: 'calibration-0a1b',
      stage: 'experiment',
      activityType: 'runStage',
      workflowId: 'exp-child-1',
      attempt: 2,
      bytes: '10',
      temporalRunId: '0195-abc',
    });
    expect(Object.keys(JSON.parse(line)).slice(0, 6)).toEqual(['time', 'level', 'message', 'runId', 'stage', 'activityType']);
  });

  it('a workflow\'s line takes its workflow id as the run id; an error keeps its type and stack inside the one line', () => {
    const error = ApplicationFailure.nonRetryable('bad key', 'ConfigError');
    const parsed = JSON.parse(jsonLogLine({ level: 'ERROR', message: 'Workflow failed', timestampNanos, meta: { workflowId: 'run-1', runId: '0195-def', error } }));
    expect(parsed).toMatchObject({ runId: 'run-1', temporalRunId: '0195-def', error: { name: 'ApplicationFailure', message: 'bad key', type: 'ConfigError', nonRetryable: true } });
    expect(parsed.error.stack).toMatch(/bad key\n\s+at /);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(JSON.parse(jsonLogLine({ level: 'INFO', message: 'odd', timestampNanos, meta: { workflowId: 'run-2', circular } }))).toMatchObject({ message: 'odd', runId: 'run-2' });
  });

  it('LAB_LOG_FORMAT is text or json', () => {
    expect(logFormat({})).toBe('text');
    expect(logFormat({ LAB_LOG_FORMAT: 'JSON' })).toBe('json');
    expect(() => logFormat({ LAB_LOG_FORMAT: 'logfmt' })).toThrow('LAB_LOG_FORMAT must be text or json, got "logfmt"');
  });

  it('reads the run id and stage from an activity input that carries them', () => {
    expect(runContextOf([{ runId: 'r1', stage: 'idea', model: 'x' }])).toEqual({ labRunId: 'r1', stage: 'idea' });
    expect(runContextOf([{ kind: 'paper' }])).toEqual({});
    expect(runContextOf(['text'])).toEqual({});
    expect(runContextOf([])).toEqual({});
  });
});
