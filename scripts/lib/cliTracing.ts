/**
 * The CLI's OpenTelemetry tracing (workers/tracing.ts): started once per process when the OTEL_*
 * variables name a collector. A short command runs inside one span, `lab <command>`, so the
 * workflow it starts and what it asks the server form one trace. Its polling while it follows a
 * run (a query and a describe a second, for hours) is not sent.
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { SettingError } from '../../workers/temporalConfig.js';
import { startTracing, type Tracing } from '../../workers/tracing.js';
import { CliError } from './client.js';
import { EXIT } from './exitCodes.js';

let started: Promise<Tracing | undefined> | undefined;
/** Set once tracing is up, so a signal handler can tell at once whether there is anything to send. */
let active: Tracing | undefined;
/** The running command's span, ended early when the command exits from a signal handler. */
let commandSpan: Span | undefined;

/** This process's tracing, or undefined when off; a wrong setting is a usage error naming it. */
export function cliTracing(): Promise<Tracing | undefined> {
  started ??= startTracing(process.env, 'durable-lab-cli', {
    warn: (message) => process.stderr.write(`lab: ${message}\n`),
    drop: (name) => name.startsWith('QueryWorkflow:') || name === 'DescribeWorkflow',
  }).then((tracing) => (active = tracing), (err) => {
    if (err instanceof SettingError) throw new CliError(err.message, EXIT.usage);
    throw err;
  });
  return started;
}

let flushed: Promise<void> | undefined;

/**
 * Sends what the command traced; an unreachable collector delays the exit by at most 2 s. Once
 * per process: a Ctrl-C handler and the command's own end may both ask.
 */
export function flushCliTracing(): Promise<void> {
  flushed ??= (async () => {
    const tracing = await started?.catch(() => undefined);
    await tracing?.shutdown(2_000);
  })();
  return flushed;
}

/** Runs `run` inside the span `lab <name>` when tracing is on; the span records the exit code. */
export async function tracedCommand(name: string, run: () => Promise<number>): Promise<number> {
  const tracing = await cliTracing();
  if (!tracing) return run();
  return tracing.tracer.startActiveSpan(`lab ${name}`, async (span) => {
    commandSpan = span;
    try {
      const code = await run();
      span.setAttribute('lab.exit_code', code);
      span.setStatus({ code: code === EXIT.ok ? SpanStatusCode.OK : SpanStatusCode.ERROR });
      return code;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      commandSpan = undefined;
      span.end();
    }
  });
}

/** Whether this command sends traces (known once tracing has started). */
export function cliTracingActive(): boolean {
  return active !== undefined;
}

/** For a command that exits from its Ctrl-C handler (it stops following a run): ends its span with the exit code. */
export function endCommandSpan(code: number, why: string): void {
  const span = commandSpan;
  commandSpan = undefined;
  if (!span) return;
  span.setAttribute('lab.exit_code', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: why });
  span.end();
}
