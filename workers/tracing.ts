/**
 * Optional OpenTelemetry tracing: one trace per started workflow, with a span for the client call
 * that started it and one for each activity it and its child workflows ran, sent over OTLP/HTTP
 * (JSON) to a collector (OpenTelemetry Collector, Jaeger, Tempo...). Workflows themselves only
 * pass the trace on (workflows/tracePropagation.ts says why they have no spans of their own).
 *
 * Off unless the standard variables name an endpoint: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used
 * as is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` is added). `OTEL_SERVICE_NAME` names the
 * process (default `durable-lab-worker`, `durable-lab-cli`), `OTEL_EXPORTER_OTLP_HEADERS` adds
 * headers (an API key), `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turns it off.
 *
 * The Temporal interceptors carry the trace context in workflow and activity headers, so a run's
 * spans join up across the CLI, the research worker and LLM or sandbox workers on other hosts.
 * A collector that is down costs dropped spans (one warning a minute says so), never a failed run.
 */
import { fileURLToPath } from 'node:url';
import { context, propagation, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { SettingError } from './temporalConfig.js';

/** The workflow-side interceptors, bundled into the workflow code when tracing is on. */
export const TRACING_WORKFLOW_MODULES = [fileURLToPath(new URL('../workflows/tracePropagation.ts', import.meta.url))];

export interface TracingSettings {
  /** Where spans are posted (the full URL, `.../v1/traces`). */
  url: string;
  serviceName: string;
}

/** The tracing settings in `env`, or undefined when tracing is off. A wrong value is a {@link SettingError}. */
export function tracingSettings(env: NodeJS.ProcessEnv, defaultServiceName: string): TracingSettings | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  if (exporter === 'none') return undefined;
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!tracesEndpoint && !baseEndpoint) return undefined;
  if (exporter && exporter !== 'otlp') throw new SettingError(`OTEL_TRACES_EXPORTER must be otlp or none here, got "${env.OTEL_TRACES_EXPORTER}"`);
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const) {
    const protocol = env[name]?.trim();
    // The exporter here posts JSON; a collector's OTLP/HTTP port takes it beside protobuf, but not on its gRPC port.
    if (protocol && protocol !== 'http/json') throw new SettingError(`${name}: Durable Lab sends traces as http/json (an OTLP/HTTP endpoint, usually port 4318), got "${protocol}"`);
  }
  const setting = tracesEndpoint ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const raw = (tracesEndpoint || baseEndpoint)!;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SettingError(`${setting} "${raw}" is not a URL (e.g. http://127.0.0.1:4318)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SettingError(`${setting} must be an http(s) URL, got "${raw}"`);
  const full = tracesEndpoint ? url.href : `${url.href.replace(/\/+$/, '')}/v1/traces`;
  return { url: full, serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName };
}

export interface Tracing {
  readonly settings: TracingSettings;
  readonly tracer: Tracer;
  /** Interceptors for a worker's activities (spans joined to the workflow that scheduled them). */
  readonly activityInterceptors: ActivityInterceptorsFactory;
  /** Interceptors for a client that starts, signals or queries workflows. */
  readonly clientInterceptors: WorkflowClientInterceptor[];
  /** Sends the spans still buffered; waits at most `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Where a failed export is reported: one line (the default writes it to stderr). */
export type TracingWarn = (message: string) => void;

export interface TracingOptions {
  /** Where a failed export is reported (default: a line on stderr). */
  warn?: TracingWarn;
  /** Spans not worth sending, by name (the CLI's once-a-second polling while it follows a run). */
  drop?: (spanName: string) => boolean;
}

/** Tracing for this process as `env` configures it, or undefined when off. */
export function startTracing(env: NodeJS.ProcessEnv, defaultServiceName: string, options: TracingOptions = {}): Tracing | undefined {
  const settings = tracingSettings(env, defaultServiceName);
  return settings && tracingFor(settings, options);
}

/** Passes every span on to `inner` except those `drop` names. */
class DroppingProcessor implements SpanProcessor {
  constructor(
    private readonly inner: SpanProcessor,
    private readonly drop: (spanName: string) => boolean,
  ) {}
  onStart(...args: Parameters<SpanProcessor['onStart']>): void {
    this.inner.onStart(...args);
  }
  onEnd(span: ReadableSpan): void {
    if (!this.drop(span.name)) this.inner.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** A collector that stays down fails every export: say so once a minute, not once a batch. */
export const TRACING_WARN_EVERY_MS = 60_000;

let registered = false;

export function tracingFor(settings: TracingSettings, { warn = (m) => process.stderr.write(`${m}\n`), drop }: TracingOptions = {}): Tracing {
  // The trace context travels in Temporal headers as W3C traceparent, and spans nest through
  // async calls; both need the process-wide OpenTelemetry registrations (once; a host program's own are kept).
  if (!registered) {
    registered = true;
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  // Export failures reach OpenTelemetry's global error handler, which is silent unless given a logger.
  let warnedAt = -Infinity;
  let dropped = 0;
  setGlobalErrorHandler((err) => {
    dropped++;
    if (Date.now() - warnedAt < TRACING_WARN_EVERY_MS) return;
    warnedAt = Date.now();
    const reason = (err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err)).split('\n')[0];
    warn(`traces not sent to ${settings.url} (${reason})${dropped > 1 ? `; ${dropped} export failures so far` : ''}`);
  });
  const resource = new Resource({ 'service.name': settings.serviceName });
  const batches = new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.url, timeoutMillis: 10_000 }));
  const processor: SpanProcessor = drop ? new DroppingProcessor(batches, drop) : batches;
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = provider.getTracer('durable-lab');
  return {
    settings,
    tracer,
    activityInterceptors: (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer })],
    async shutdown(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([provider.shutdown().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
}
