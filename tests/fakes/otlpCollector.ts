/**
 * A fake OpenTelemetry collector's OTLP/HTTP traces endpoint on 127.0.0.1: `POST /v1/traces` with
 * an OTLP JSON body (resourceSpans → scopeSpans → spans, ids in hex), as a Collector, Jaeger or
 * Tempo takes it on port 4318. Every span is kept with its service name; a test can make the
 * endpoint answer an error status for a while.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
  /** 0 unset, 1 ok, 2 error (OTLP's StatusCode). */
  statusCode: number;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

const valueOf = (v: OtlpValue): unknown => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
const attributesOf = (list: OtlpAttribute[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

export class FakeOtlpCollector {
  readonly spans: CollectedSpan[] = [];
  /** Requests answered, by status. */
  readonly answered: number[] = [];
  /** While set, every request is answered with this status and its spans are dropped. */
  failWith?: number;
  private server?: http.Server;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The spans of one trace. */
  trace(traceId: string): CollectedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const answer = (status: number, text = '{}') => {
      this.answered.push(status);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };
    if (req.method !== 'POST' || req.url !== '/v1/traces') return answer(404, '{"error":"not found"}');
    if (this.failWith) return answer(this.failWith, '{"error":"unavailable"}');
    if (!String(req.headers['content-type']).startsWith('application/json')) return answer(415, '{"error":"this fake takes OTLP JSON"}');
    let parsed: { resourceSpans?: Array<{ resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: Array<{ spans?: any[] }> }> };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(400, '{"error":"invalid JSON"}');
    }
    for (const rs of parsed.resourceSpans ?? []) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            attributes: attributesOf(s.attributes),
            statusCode: s.status?.code ?? 0,
          });
    }
    answer(200, '{"partialSuccess":{}}');
  }
}
