/**
 * A fake of the two web-search APIs on 127.0.0.1, for the `web_search` literature backend:
 * `POST /v1/responses` (OpenAI Responses: a `web_search_call` item, then a message whose content
 * has `output_text`), `POST /v1/messages` (Anthropic: `server_tool_use` and `web_search_tool_result`
 * blocks before the final text block) and `GET /v1/models` (both). Every request is recorded; the
 * answer's text and faults (a status with headers) are scripted per test.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebSearchRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface WebSearchFault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export class FakeWebSearchServer {
  readonly requests: WebSearchRequest[] = [];
  /** The model's final text (what the backend must parse). */
  answer = '[]';
  private faults: WebSearchFault[] = [];
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** OPENAI_BASE_URL (the SDK appends `/responses`, `/models`). */
  get openAiUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** ANTHROPIC_BASE_URL (the SDK appends `/v1/messages`, `/v1/models`). */
  get anthropicUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Queues faults for the next requests, one each, before normal replies resume. */
  fail(...faults: WebSearchFault[]): void {
    this.faults.push(...faults);
  }

  reset(): void {
    this.requests.length = 0;
    this.faults = [];
    this.answer = '[]';
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const path = (req.url ?? '/').split('?')[0];
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const fault = this.faults.shift();
    if (fault) return send(fault.status, fault.body ?? { error: { type: 'error', message: `fake fault ${fault.status}` } }, fault.headers);

    if (req.method === 'GET' && path === '/v1/models') {
      return send(200, { object: 'list', data: [{ id: 'fake-model', object: 'model', type: 'model', created: 0, owned_by: 'fake' }], has_more: false });
    }
    if (req.method === 'POST' && path === '/v1/responses') {
      if (!body?.tools?.some((t: { type?: string }) => t?.type === 'web_search')) return send(400, { error: { message: 'expected the web_search tool' } });
      return send(200, {
        id: 'resp_fake',
        object: 'response',
        created_at: 0,
        status: 'completed',
        model: body.model,
        output: [
          { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'papers' } },
          {
            type: 'message',
            id: 'msg_1',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: this.answer, annotations: [] }],
          },
        ],
        usage: { input_tokens: 10, output_tokens: 10, total_tokens: 20 },
      });
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      const tool = body?.tools?.find((t: { type?: string }) => t?.type === 'web_search_20250305');
      if (!tool || tool.name !== 'web_search') return send(400, { type: 'error', error: { type: 'invalid_request_error', message: 'expected the web_search_20250305 tool' } });
      return send(200, {
        id: 'msg_fake',
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [
          { type: 'text', text: "I'll search for papers [on this topic]." },
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'papers' } },
          {
            type: 'web_search_tool_result',
            tool_use_id: 'srvtoolu_1',
            content: [{ type: 'web_search_result', url: 'https://example.org/a', title: 'A result', encrypted_content: 'x', page_age: null }],
          },
          { type: 'text', text: this.answer },
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 10, server_tool_use: { web_search_requests: 1 } },
      });
    }
    send(404, { error: { message: `unknown path ${path}` } });
  }
}
