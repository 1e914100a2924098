/**
 * Builds the workers of one process: `research` runs workflows, each `llm.<provider>` queue runs
 * that provider's LLM-calling activities, `sandbox` runs experiment code, `literature` searches.
 * Each queue can also run alone, on its own hosts.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatWithOptions } from 'node:util';
import { LLM_ERROR_TYPES } from '../common/errorTypes.js';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogEntry,
  type LogLevel,
  type LogMetadata,
  type Logger,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { ProviderName } from '../common/modelSpec.js';
import { LLM_QUEUES, sandboxHostQueue, sandboxProbeQueue, TASK_QUEUES, type TaskQueueName } from '../common/queues.js';
import { sandboxHostId } from '../activities/sandbox/host.js';
import { workflowWorkerClass } from './deadlockDetection.js';
import { workerTuning } from './env.js';
import { runContextLogInterceptor } from './logContext.js';
import { TRACING_WORKFLOW_MODULES, type Tracing } from './tracing.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Modules the workflow thread loads once and shares between workflows instead of running them
 * again for each one: the cache of common/'s schemas, and zod, which it loads (common/sharedSchema.ts).
 */
export const PRELOADED_WORKFLOW_MODULES = [fileURLToPath(new URL('../common/sharedSchema.ts', import.meta.url))];

export interface LabWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  queues: TaskQueueName[];
  activities?: object;
  /** Pre-built bundle (tests build it once); otherwise the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  env?: NodeJS.ProcessEnv;
  /**
   * When the worker bundles `workflows/` itself, webpack's report is an INFO log (shown by a verbose
   * logger). Unless `verbose`, its warnings are logged again as WARN so a quiet logger still shows them.
   */
  verbose?: boolean;
  /** Add the lab run id and stage to activities' log lines (the JSON log format shows them). */
  logRunContext?: boolean;
  /**
   * OpenTelemetry spans for workflows and activities (workers/tracing.ts). A pre-built bundle must
   * then hold TRACING_WORKFLOW_MODULES as workflow interceptor modules.
   */
  tracing?: Tracing;
}

/**
 * What a sandbox worker offers: this host's cores and how many sandboxed commands it runs at once
 * (LAB_SANDBOX_CONCURRENCY). Its ready line and its worker identity (shown in the Temporal UI's
 * task queue view and on each activity) say both, so an operator sees where experiments can run.
 */
export function sandboxCapacity(env: NodeJS.ProcessEnv = process.env): { cores: number; concurrency: number } {
  return { cores: os.availableParallelism(), concurrency: workerTuning(env).sandbox.maxConcurrentActivityTaskExecutions };
}

export function sandboxIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const { cores, concurrency } = sandboxCapacity(env);
  return `sandbox:${process.pid}@${os.hostname()} cores=${cores} concurrency=${concurrency}`;
}

export async function createLabWorkers(options: LabWorkerOptions): Promise<Worker[]> {
  const tuning = workerTuning(options.env);
  const tracing = options.tracing;
  const interceptors = {
    activity: [...(options.logRunContext ? [runContextLogInterceptor] : []), ...(tracing ? [tracing.activityInterceptors] : [])],
  };
  const activities = options.activities ?? createActivities();
  const workers: Worker[] = [];
  for (const queue of options.queues) {
    if (queue === 'research') {
      workers.push(
        await workflowWorkerClass(options.env).create({
          connection: options.connection,
          namespace: options.namespace,
          taskQueue: TASK_QUEUES.research,
          ...(options.workflowBundle
            ? { workflowBundle: options.workflowBundle }
            : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: PRELOADED_WORKFLOW_MODULES, ...(options.verbose ? {} : quietBundlerOptions()) } }),
          activities,
          interceptors: tracing && !options.workflowBundle ? { ...interceptors, workflowModules: TRACING_WORKFLOW_MODULES } : interceptors,
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
          interceptors,
          ...(queue === 'sandbox' ? { identity: sandboxIdentity(options.env) } : {}),
          ...(queue === 'sandbox' ? tuning.sandbox : queue === 'literature' ? tuning.literature : tuning.llm(queue.slice('llm.'.length) as ProviderName)),
        }),
      );
      if (queue === 'sandbox') {
        // This host's own queue: runs that claimed it send every later step here, where their workspaces are.
        workers.push(
          await Worker.create({
            connection: options.connection,
            namespace: options.namespace,
            taskQueue: sandboxHostQueue(sandboxHostId(options.env)),
            activities,
            interceptors,
            identity: sandboxIdentity(options.env),
            ...tuning.sandbox,
          }),
          // Its probe queue: a run whose step waits long on this host asks here whether the host is still there.
          await Worker.create({
            connection: options.connection,
            namespace: options.namespace,
            taskQueue: sandboxProbeQueue(sandboxHostQueue(sandboxHostId(options.env))),
            activities,
            identity: sandboxIdentity(options.env),
            maxConcurrentActivityTaskExecutions: 2,
          }),
        );
      }
    }
  }
  return workers;
}

/** The SDK warns about this on every worker without workflows; only `research` has workflows, by design. */
const NO_WORKFLOWS = 'No workflows registered, not polling for workflow tasks';

/**
 * The worker process's logger: WARN and up by default (no webpack report, no SDK INFO lines), INFO
 * with `verbose`. Warnings that are expected by design are logged at DEBUG instead; every other
 * warning and error still shows.
 */
/**
 * A core log line in one line: its message and the gist of its error (gRPC status message and OS
 * error kind), instead of the Rust debug dump of every field.
 */
export function coreLine(message: string, meta: LogMetadata): string {
  const error = typeof meta.error === 'string' ? meta.error : undefined;
  if (!error) return message;
  const status = /message: "([^"]+)"/.exec(error)?.[1];
  const kind = /kind: (\w+)/.exec(error)?.[1];
  const gist = [status, kind].filter(Boolean).join(': ') || (error.length > 200 ? `${error.slice(0, 200)}...` : error);
  return `${message}: ${gist}`;
}

/** A core warning or error seen again within this long is counted, not printed (a server outage repeats one line every second). */
export const REPEAT_WINDOW_MS = 60_000;

/**
 * The SDK's log line (`<time> [LEVEL] message meta`) with the meta on the same line however long
 * it is: the SDK's own function lets util.inspect spread an object past 80 characters over several
 * lines (a budget stop's activity and run id did). An error's stack still prints on its own lines.
 * Colours only when stderr is a terminal that has them, as the SDK does.
 */
export function oneLineLogFunction(entry: LogEntry, stream: NodeJS.WriteStream = process.stderr): void {
  const options = { colors: stream.isTTY ? stream.hasColors() : false, breakLength: Infinity, compact: true };
  const date = new Date(Number(entry.timestampNanos / 1_000_000n));
  const meta = entry.meta === undefined ? '' : ` ${formatWithOptions(options, entry.meta)}`;
  stream.write(`${formatWithOptions(options, date)} [${entry.level}] ${entry.message}${meta}\n`);
}

export class LabWorkerLogger implements Logger {
  readonly inner: DefaultLogger;
  private readonly repeats = new Map<string, { shownAt: number; suppressed: number }>();
  constructor(
    readonly verbose = false,
    logFunction?: ConstructorParameters<typeof DefaultLogger>[1],
    private readonly now: () => number = Date.now,
  ) {
    this.inner = new DefaultLogger(verbose ? 'INFO' : 'WARN', logFunction ?? ((entry) => oneLineLogFunction(entry)));
  }
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (level === 'WARN' && isExpectedWarning(message, meta)) level = 'DEBUG';
    const budget = budgetStop(message, meta);
    if (budget) return this.inner.log(level, budget.message, budget.meta);
    // Only the SDK core's own lines repeat by the second (polls failing while the server is down);
    // the TypeScript side's warnings each name their own activity and are all shown.
    if ((level === 'WARN' || level === 'ERROR') && meta?.sdkComponent === 'core') {
      const line = coreLine(message, meta);
      const shown = this.collapse(level, line);
      if (shown === undefined) return;
      return this.inner.log(level, shown, { sdkComponent: 'core' });
    }
    this.inner.log(level, message, meta);
  }
  /** The message to print, with how often it was held back since it was last shown; undefined to hold it back. */
  private collapse(level: LogLevel, message: string): string | undefined {
    // "retried 6 times" and "retried 7 times" are the same line.
    const key = `${level} ${message.replace(/\d+/g, '#')}`;
    const t = this.now();
    const seen = this.repeats.get(key);
    if (seen && t - seen.shownAt < REPEAT_WINDOW_MS) {
      seen.suppressed += 1;
      return undefined;
    }
    if (this.repeats.size > 1000) this.repeats.clear();
    this.repeats.set(key, { shownAt: t, suppressed: 0 });
    return seen?.suppressed ? `${message} (and ${seen.suppressed} more times since ${new Date(seen.shownAt).toISOString()})` : message;
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/**
 * A run that runs out of budget stops by design (BudgetExhausted): one line saying so, without the
 * error's stack and cause chain that an unexpected failure gets.
 */
function budgetStop(message: string, meta?: LogMetadata): { message: string; meta: LogMetadata } | undefined {
  const error = meta?.error as { type?: unknown; message?: unknown } | undefined;
  if (message !== 'Activity failed' || !error || error.type !== LLM_ERROR_TYPES.budget) return undefined;
  const { error: _error, ...rest } = meta!;
  const keep = Object.fromEntries(['activityType', 'workflowId', 'attempt', 'labRunId', 'stage'].filter((k) => rest[k] !== undefined).map((k) => [k, rest[k]]));
  return { message: `Activity stopped: budget exhausted (${String(error.message)})`, meta: keep };
}

function isExpectedWarning(message: string, meta?: LogMetadata): boolean {
  return message === NO_WORKFLOWS && String(meta?.taskQueue ?? 'research') !== 'research';
}

type BundlerOptions = NonNullable<WorkerOptions['bundlerOptions']>;
type WebpackConfig = Parameters<NonNullable<BundlerOptions['webpackConfigHook']>>[0];
interface WebpackStats {
  hasErrors(): boolean;
  hasWarnings(): boolean;
  toString(preset: string): string;
}

/**
 * The SDK logs webpack's whole report at INFO, warnings included (at ERROR when the build fails);
 * with a quiet logger, this logs the warnings of a successful build alone at WARN.
 */
export function quietBundlerOptions(logger: () => Logger = () => Runtime.instance().logger): BundlerOptions {
  const plugin = {
    apply(compiler: { hooks: { done: { tap(name: string, fn: (stats: WebpackStats) => void): void } } }) {
      compiler.hooks.done.tap('LabWebpackWarnings', (stats) => {
        if (stats.hasWarnings() && !stats.hasErrors()) logger().warn(`workflow bundle: ${stats.toString('errors-warnings')}`, { sdkComponent: 'worker' });
      });
    },
  };
  return {
    webpackConfigHook: (config: WebpackConfig) => ({ ...config, plugins: [...(config.plugins ?? []), plugin as never] }),
  };
}

export { parseQueues } from '../common/queues.js';
