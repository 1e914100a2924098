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
import type { Tracer } from '@opentelemetry/api';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { httpUrl } from '../common/httpUrl.js';
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
    // Spans are posted as JSON, which every OTLP/HTTP endpoint takes beside protobuf (the spec's
    // default, often set host-wide); a gRPC endpoint takes neither.
    if (protocol && protocol !== 'http/json' && protocol !== 'http/protobuf')
      throw new SettingError(`${name}: Durable Lab sends traces over OTLP/HTTP (an http endpoint, usually port 4318), not "${protocol}"`);
  }
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'] as const) {
    // The exporter reads these itself and skips what it cannot parse: a mistyped API key header
    // would be dropped without a word, and every export refused. The value is never echoed (it holds keys).
    const bad = malformedHeaderEntry(env[name]);
    if (bad) throw new SettingError(`${name} must be comma-separated key=value pairs (entry ${bad} is not)`);
  }
  const setting = tracesEndpoint ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const raw = (tracesEndpoint || baseEndpoint)!;
  const url = httpUrl(raw);
  if (!url) throw new SettingError(`${setting} must be an http(s) URL (e.g. http://127.0.0.1:4318), got "${raw}"`);
  if (!tracesEndpoint) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  const full = url.href;
  return { url: full, serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName };
}

/** The 1-based number of the first entry of an OTLP headers setting that is not `key=value`, or 0. */
function malformedHeaderEntry(raw: string | undefined): number {
  if (!raw?.trim()) return 0;
  const entries = raw.split(',');
  const bad = entries.findIndex((entry) => {
    const eq = entry.indexOf('=');
    return eq <= 0 || !entry.slice(0, eq).trim();
  });
  return bad + 1;
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

/**
 * Tracing for this process as `env` configures it, or undefined when off. The OpenTelemetry SDK is
 * loaded only then (it costs every CLI command and worker start over 100 ms otherwise).
 */
export async function startTracing(env: NodeJS.ProcessEnv, defaultServiceName: string, options: TracingOptions = {}): Promise<Tracing | undefined> {
  const settings = tracingSettings(env, defaultServiceName);
  if (!settings) return undefined;
  const { tracingFor } = await import('./tracingSdk.js');
  return tracingFor(settings, options);
}


