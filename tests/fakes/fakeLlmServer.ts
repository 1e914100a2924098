/**
 * Fake OpenAI-compatible and Anthropic HTTP servers on 127.0.0.1 for tests. The real SDKs talk
 * to them; a test scripts each reply (text, JSON, status codes, delays, truncation) and counts calls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  flavour: 'openai' | 'anthropic';
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** The last user message's text. */
  prompt: string;
  system: string;
  /** 1-based count of requests so far, this one included. */
  n: number;
}

export type FakeReply =
  | { text: string; inputTokens?: number; outputTokens?: number; delayMs?: number; model?: string; truncated?: boolean }
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /** Sends headers and part of a body, then destroys the socket. */
  | { hangUp: true; delayMs?: number };

export type Script = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export class FakeLlmServer {
  readonly requests: FakeRequest[] = [];
  /**
   * Requests whose reply has not gone out in full yet and whose client is still connected: the
   * calls in flight, e.g. at the moment a test kills a worker.
   */
  readonly inFlight = new Set<FakeRequest>();
  /** When the last reply went out in full (ms since the epoch; 0 before the first). */
  lastReplyAt = 0;
  /** Requests whose connection closed before their reply went out in full (the client died, or a hangUp reply). */
  readonly cutOff = new Set<FakeRequest>();
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(public script: Script) {}

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** Base URL for the OpenAI SDK (`/v1` included). */
  get openaiBaseURL(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Base URL for the Anthropic SDK (it appends `/v1/messages`). */
  get anthropicBaseURL(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Model ids GET /models answers with (the preflight check asks); not counted as requests. */
  models: string[] = [];
  modelListRequests = 0;

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET' && /\/models\/?(\?|$)/.test(req.url ?? '')) {
      this.modelListRequests++;
      const anthropic = 'anthropic-version' in req.headers;
      const data = this.models.map((id) => (anthropic ? { id, type: 'model', display_name: id, created_at: '2025-01-01T00:00:00Z' } : { id, object: 'model', created: 0, owned_by: 'fake' }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(anthropic ? { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null } : { object: 'list', data }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? JSON.parse(raw) : {};
    const flavour = req.url?.includes('/messages') ? 'anthropic' : 'openai';
    const messages: Array<{ role: string; content: unknown }> = body.messages ?? [];
    const textOf = (c: unknown): string =>
      typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: any) => p.text ?? '').join('') : '';
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const system =
      flavour === 'anthropic' ? textOf(body.system ?? '') : textOf(messages.find((m) => m.role === 'system')?.content ?? '');
    const request: FakeRequest = {
      flavour,
      path: req.url ?? '',
      headers: req.headers,
      body,
      prompt: textOf(lastUser?.content ?? ''),
      system,
      n: this.requests.length + 1,
    };
    this.requests.push(request);
    this.inFlight.add(request);
    res.once('finish', () => (this.lastReplyAt = Date.now()));
    res.once('close', () => {
      this.inFlight.delete(request);
      if (!res.writableFinished) this.cutOff.add(request);
    });
    let reply: FakeReply;
    try {
      reply = await this.script(request);
    } catch (err) {
      reply = { status: 500, body: { error: { message: String(err) } } };
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    if ('hangUp' in reply) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"partial",');
      res.socket?.destroy();
      return;
    }
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body ?? { error: { message: `fake error ${reply.status}`, type: 'fake_error' } }));
      return;
    }
    const inputTokens = reply.inputTokens ?? Math.ceil((system.length + request.prompt.length) / 4);
    const outputTokens = reply.outputTokens ?? Math.ceil(reply.text.length / 4);
    const model = reply.model ?? body.model;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(flavour === 'openai' ? openaiBody(model, reply.text, inputTokens, outputTokens, reply.truncated) : anthropicBody(body, model, reply.text, inputTokens, outputTokens, reply.truncated)));
  }
}

function openaiBody(model: string, text: string, inputTokens: number, outputTokens: number, truncated?: boolean) {
  return {
    id: `chatcmpl-fake-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: truncated ? 'length' : 'stop' }],
    usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
  };
}

function anthropicBody(req: any, model: string, text: string, inputTokens: number, outputTokens: number, truncated?: boolean) {
  const toolName = req.tool_choice?.type === 'tool' ? req.tool_choice.name : undefined;
  let content: unknown[] = [{ type: 'text', text }];
  if (toolName) {
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch {
      input = { _unparseable: text };
    }
    content = [{ type: 'tool_use', id: 'toolu_fake', name: toolName, input }];
  }
  return {
    id: `msg_fake_${Math.random().toString(36).slice(2)}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: truncated ? 'max_tokens' : toolName ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: outputTokens },
  };
}
