/**
 * Worker process entry: `lab worker` or `node --import tsx workers/main.ts [--verbose]`.
 * Env: the connection (TEMPORAL_PROFILE and its config file, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS,
 * API key: workers/temporalConfig.ts), LAB_WORKER_QUEUES (default all: research,llm,sandbox,literature),
 * tuning in workers/env.ts, LAB_WORKFLOW_DEADLOCK_DETECTION (workers/deadlockDetection.ts),
 * LAB_METRICS_ADDRESS (Prometheus metrics), LAB_LOG_FORMAT (text or json),
 * OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT (OpenTelemetry traces, workers/tracing.ts).
 *
 * Quiet by default: one "worker ready" line per queue, then only warnings and errors. `verbose`
 * shows the SDK's INFO logs, webpack's report included. SIGINT/SIGTERM (or the `npx` that started
 * the process going away) shuts the workers down gracefully; a second signal exits at once.
 */
import { IllegalStateError } from '@temporalio/common';
import { NativeConnection, Runtime, type LogLevel, type Worker } from '@temporalio/worker';
import { DEFAULT_WORKER_QUEUES, type TaskQueueName } from '../common/queues.js';
import { connectionOptions, handleShutdown, SettingError, temporalTarget, unreachableHint } from './env.js';
import { deadlockDetection } from './deadlockDetection.js';
import { createLabWorkers, LabWorkerLogger, parseQueues, sandboxCapacity } from './createWorkers.js';
import { jsonLogFunction, jsonLogLine, logFormat, type LogFormat } from './logFormat.js';
import { metricsBindAddress } from './metrics.js';
import { startTracing, type Tracing } from './tracing.js';

export interface WorkerProcessOptions {
  /** Show the SDK's INFO logs (webpack's report, worker state changes). */
  verbose?: boolean;
  /** Serve Prometheus metrics on this ip:port (default: LAB_METRICS_ADDRESS; unset, none). */
  metricsAddress?: string;
  /** Which setting the metrics address came from, for its error message. */
  metricsSetting?: string;
}

/** Installs the SDK runtime with the lab's logger and metrics, leaving signals to {@link runWorkerProcess}. */
function installRuntime(verbose: boolean, format: LogFormat, metrics: { address: string; setting: string } | undefined): void {
  try {
    Runtime.install({
      logger: new LabWorkerLogger(verbose, format === 'json' ? (entry) => jsonLogFunction(entry) : undefined),
      shutdownSignals: [],
      telemetryOptions: {
        // The SDK core's own (Rust) log lines go through the lab's logger too: one format, no colour
        // codes, and a line repeated while the server is unreachable is shown once a minute.
        logging: { filter: { core: verbose ? 'INFO' : 'WARN', other: 'WARN' }, forward: {} },
        // Durations in seconds, Prometheus' base unit (the SDK's default is milliseconds); the names
        // stay the SDK's own (`temporal_activity_schedule_to_start_latency_bucket`), as the README lists them.
        ...(metrics ? { metrics: { prometheus: { bindAddress: metrics.address, useSecondsForDurations: true } } } : {}),
      },
    });
  } catch (err) {
    // Already installed in this process (an embedding program or a test did it): keep theirs.
    if (err instanceof IllegalStateError) return;
    const message = String((err as Error).message ?? err);
    if (metrics && /prometheus|socket/i.test(message))
      throw new SettingError(`${metrics.setting} ${metrics.address}: cannot serve metrics there (${message.replace(/^.*?: /, '').replace(/ \(os error \d+\)/, '')})`);
    throw err;
  }
}

function readyLine(queue: TaskQueueName, where: string): string {
  if (queue === 'research') return `worker ready: research (workflows + activities) on ${where}`;
  if (queue === 'sandbox') {
    const { cores, concurrency } = sandboxCapacity();
    return `worker ready: sandbox (activities) cores=${cores} concurrency=${concurrency}`;
  }
  return `worker ready: ${queue} (activities)`;
}

/** The worker's own lines (ready, stopping) in the chosen log format. */
function announcer(format: LogFormat) {
  return (stream: NodeJS.WritableStream, level: LogLevel, message: string) =>
    stream.write(format === 'json' ? jsonLogLine({ level, message, timestampNanos: BigInt(Date.now()) * 1_000_000n, meta: { sdkComponent: 'lab' } }) : `${message}\n`);
}

export async function runWorkerProcess(
  queuesList = process.env.LAB_WORKER_QUEUES ?? DEFAULT_WORKER_QUEUES,
  options: WorkerProcessOptions = {},
): Promise<void> {
  const queues = parseQueues(queuesList);
  const target = temporalTarget();
  const format = logFormat();
  const metricsSetting = options.metricsAddress !== undefined ? (options.metricsSetting ?? '--metrics') : 'LAB_METRICS_ADDRESS';
  const metricsAddress = metricsBindAddress(options.metricsAddress ?? process.env.LAB_METRICS_ADDRESS, metricsSetting);
  // Bad tuning settings stop the process before it connects.
  if (queues.includes('sandbox')) sandboxCapacity();
  if (queues.includes('research')) deadlockDetection();
  installRuntime(Boolean(options.verbose), format, metricsAddress ? { address: metricsAddress, setting: metricsSetting } : undefined);
  const say = announcer(format);
  const tracing: Tracing | undefined = await startTracing(process.env, 'durable-lab-worker', { warn: (message) => say(process.stderr, 'WARN', `worker: ${message}`) });

  let workers: Worker[] | undefined;
  const shutDownWorkers = () => {
    for (const w of workers ?? []) if (w.getState() === 'RUNNING') w.shutdown();
  };
  const removeHandlers = handleShutdown({
    stop(reason) {
      if (!workers) {
        // Still connecting or bundling: nothing is running yet, so nothing to drain.
        say(process.stderr, 'WARN', `worker: stopped before it was ready (${reason})`);
        process.exit(reason === 'SIGINT' ? 130 : 143);
      }
      say(process.stderr, 'WARN', `worker: shutting down (${reason}); finishing in-flight tasks, press Ctrl-C again to force`);
      shutDownWorkers();
    },
    force() {
      say(process.stderr, 'WARN', 'worker: forced exit');
    },
  });

  let connection: NativeConnection | undefined;
  try {
    try {
      connection = await NativeConnection.connect(connectionOptions(target));
    } catch (err) {
      throw new Error(`cannot reach Temporal at ${target.address} (${(err as Error).message.split('\n')[0]}); ${unreachableHint(target)}`);
    }
    workers = await createLabWorkers({ connection, namespace: target.namespace, queues, verbose: options.verbose, logRunContext: format === 'json', tracing });
    let failure: unknown;
    const running = workers.map((w) =>
      w.run().catch((err) => {
        // One worker failing stops the process: shut the others down so it exits with the error.
        failure ??= err;
        shutDownWorkers();
      }),
    );
    const details = [target.namespace === 'default' ? '' : `namespace ${target.namespace}`, target.profile ? `profile ${target.profile.name}` : ''].filter(Boolean);
    const where = details.length ? `${target.address} (${details.join(', ')})` : target.address;
    for (const q of queues) say(process.stdout, 'INFO', readyLine(q, where));
    if (metricsAddress) say(process.stdout, 'INFO', `worker metrics: http://${metricsAddress}/metrics`);
    if (tracing) say(process.stdout, 'INFO', `worker traces: OTLP to ${tracing.settings.url} as ${tracing.settings.serviceName}`);
    await Promise.all(running);
    if (failure) throw failure;
    say(process.stderr, 'INFO', 'worker: stopped');
  } finally {
    removeHandlers();
    await connection?.close();
    // The last spans (the runs that finished while draining) are sent before the process exits.
    await tracing?.shutdown(5_000);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  runWorkerProcess(undefined, { verbose: process.argv.includes('--verbose') }).then(
    () => process.exit(0),
    (err) => {
      const message = `worker failed: ${err instanceof Error ? err.message : err}`;
      let format: LogFormat = 'text';
      try {
        format = logFormat();
      } catch {
        // LAB_LOG_FORMAT itself is what failed: say so in plain text.
      }
      announcer(format)(process.stderr, 'ERROR', message);
      process.exit(1);
    },
  );
}
