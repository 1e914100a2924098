/**
 * `LAB_LOG_FORMAT=json`: the worker's log lines as one JSON object per line, for a log collector.
 * Each has `time`, `level` and `message`; `runId` (the lab run: the activity's run id or the
 * workflow id), `stage` and `activityType` when the line is about one; the rest of the SDK's
 * fields after them (the Temporal run id as `temporalRunId`).
 */
import type { LogEntry } from '@temporalio/worker';
import { SettingError } from './temporalConfig.js';

export type LogFormat = 'text' | 'json';

export function logFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const raw = (env.LAB_LOG_FORMAT ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'text') return 'text';
  if (raw === 'json') return 'json';
  throw new SettingError(`LAB_LOG_FORMAT must be text or json, got "${env.LAB_LOG_FORMAT}"`);
}

/** SDK fields that are noise in a log line (the task token is a credential for completing the task). */
const DROPPED = new Set(['taskToken', 'labRunId']);

function jsonValue(value: unknown): unknown {
  if (value instanceof Error) {
    const { type, nonRetryable } = value as { type?: unknown; nonRetryable?: unknown };
    return {
      name: value.name,
      message: value.message,
      ...(typeof type === 'string' ? { type } : {}),
      ...(nonRetryable === true ? { nonRetryable } : {}),
      ...(value.cause ? { cause: jsonValue(value.cause) } : {}),
      ...(value.stack ? { stack: value.stack } : {}),
    };
  }
  return value;
}

/** One log entry as one JSON line (newline-terminated); never throws on odd metadata. */
export function jsonLogLine(entry: LogEntry): string {
  const meta = (entry.meta ?? {}) as Record<string, unknown>;
  const runId = meta.labRunId ?? meta.workflowId;
  const temporalRunId = meta.workflowRunId ?? meta.runId;
  const head: Record<string, unknown> = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level,
    message: entry.message,
    ...(runId !== undefined ? { runId } : {}),
    ...(meta.stage !== undefined ? { stage: meta.stage } : {}),
    ...(meta.activityType !== undefined ? { activityType: meta.activityType } : {}),
  };
  for (const [k, v] of Object.entries(meta)) {
    if (DROPPED.has(k) || k in head || k === 'workflowRunId' || k === 'runId') continue;
    head[k] = jsonValue(v);
  }
  if (temporalRunId !== undefined) head.temporalRunId = temporalRunId;
  try {
    return `${JSON.stringify(head, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
  } catch {
    // A circular value in the metadata: keep the line, without the metadata.
    return `${JSON.stringify({ time: head.time, level: head.level, message: head.message, runId: head.runId, metaError: 'unserializable metadata' })}\n`;
  }
}

export function jsonLogFunction(entry: LogEntry, stream: NodeJS.WritableStream = process.stderr): void {
  stream.write(jsonLogLine(entry));
}
