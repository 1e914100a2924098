/**
 * The OpenTelemetry SDK side of workers/tracing.ts, loaded only when tracing is on: the exporter,
 * the batching, the process-wide registrations and the Temporal client and activity interceptors.
 */
import { context, propagation } from '@opentelemetry/api';
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
import type { Tracing, TracingOptions, TracingSettings } from './tracing.js';

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
    warn(`traces not sent to ${settings.url} (${reasonOf(err)})${dropped > 1 ? `; ${dropped} export failures so far` : ''}`);
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
      // The last spans are sent here, not by the batch timer: a failure is said here too, whatever the last warning.
      const failure = await Promise.race([
        provider.shutdown().then(
          () => undefined,
          (err: unknown) => reasonOf(err),
        ),
        new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${timeoutMs / 1000} s`), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (failure) warn(`traces not sent to ${settings.url} (${failure}); the last spans are lost`);
    },
  };
}

function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err)).split('\n')[0];
}
