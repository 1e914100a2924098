/**
 * The LLM gateway on its own, outside Temporal: the real OpenAI and Anthropic SDKs talk HTTP to
 * a scripted fake server. Covers replies, tokens and cost, JSON mode and the re-ask, the
 * mapping of HTTP failures onto Temporal retry semantics, budgets, continuing a reply cut short
 * at its output limit, the call cache, and that an API key never ends up in a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, type Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONTINUE_PROMPT, LlmGateway, parseJson } from '../activities/llm/gateway.js';
import { FakeLlmServer, type FakeReply, type FakeRequest } from './fakes/fakeLlmServer.js';

const SECRET = 'sk-test-DO-NOT-LEAK-1234';
const VALID_JSON = '{"answer":"calibration drifts","score":7}';
const verdictSchema = z.object({ answer: z.string(), score: z.number() });

/** The key a request carried: `x-api-key`, or a bearer token (newer Anthropic SDKs send the key that way too). */
function sentCredential(req: FakeRequest): string {
  const header = req.headers['x-api-key'] ?? req.headers.authorization ?? '';
  return String(header).replace(/^Bearer /, '');
}

/** Continuation replies: the piece that follows the text so far, cut short (truncated) until the last one. */
const PIECES = ['Part one, ', 'part two, ', 'the end.'];
/** Makes the next continuation request of model `cut-flaky` fail once with a 500. */
let flakyFailures = 0;

/** The reply to a continuation script: which piece follows the assistant's text so far. */
function nextPiece(req: FakeRequest, pieces: string[]): FakeReply {
  const messages: Array<{ role: string; content: unknown }> = req.body.messages ?? [];
  const assistant = messages.find((m) => m.role === 'assistant');
  const sofar = typeof assistant?.content === 'string' ? assistant.content : '';
  let i = 0;
  for (let joined = ''; i < pieces.length && joined !== sofar; i++) joined += pieces[i];
  if (i >= pieces.length) return { status: 400, body: { error: { message: `unexpected text so far: ${sofar}` } } };
  return { text: pieces[i], inputTokens: 10, outputTokens: 50, truncated: i < pieces.length - 1 };
}

/** Replies keyed on the model the SDK asked for. */
function script(req: FakeRequest): FakeReply {
  const model: string = req.body.model;
  const hasAssistantTurn = (req.body.messages ?? []).some((m: { role: string }) => m.role === 'assistant');
  switch (model) {
    case 'cut-twice':
      return nextPiece(req, PIECES);
    case 'cut-flaky':
      if (hasAssistantTurn && flakyFailures > 0) {
        flakyFailures -= 1;
        return { status: 500 };
      }
      return nextPiece(req, PIECES);
    case 'cut-forever':
      return { text: 'more and more ', inputTokens: 10, outputTokens: 50, truncated: true };
    case 'ok':
      return { text: 'hello from the fake', inputTokens: 11, outputTokens: 5, delayMs: 30, model: 'ok-0613' };
    case 'gpt-4.1-mini':
      return { text: VALID_JSON, inputTokens: 1000, outputTokens: 500 };
    case 'claude-haiku-4-5':
      return req.body.tool_choice ? { text: VALID_JSON, inputTokens: 100, outputTokens: 20 } : { text: 'hello from claude', inputTokens: 100, outputTokens: 20 };
    case 'rate-limited':
      return { status: 429, headers: { 'retry-after': '7' } };
    case 'rate-limited-ms':
      return { status: 429, headers: { 'retry-after-ms': '1500' } };
    case 'boom':
      return { status: 500 };
    case 'hangup':
      return { hangUp: true };
    case 'slow':
      return { text: 'too late', delayMs: 1500 };
    case 'auth': {
      // A careless endpoint that echoes the credential it was sent.
      const sent = sentCredential(req);
      return { status: 401, body: { error: { type: 'authentication_error', message: `Incorrect API key provided: ${sent}` } } };
    }
    case 'missing':
      return { status: 404, body: { error: { type: 'not_found_error', message: 'The model `missing` does not exist' } } };
    case 'bad':
      return { status: 400, body: { error: { type: 'invalid_request_error', message: 'messages: field required' } } };
    case 'bad-timeout':
      return { status: 400, body: { error: { type: 'invalid_request_error', message: "Invalid value for 'timeout': expected a number" } } };
    case 'rate-limited-timeout':
      return { status: 429, headers: { 'retry-after': '30' }, body: { error: { message: 'Too many requests: wait for the timeout to pass' } } };
    case 'json-fix':
      // Truncated JSON first; the corrected object once the re-ask shows the first reply.
      return { text: hasAssistantTurn ? VALID_JSON : '{"answer": "calibration dri' };
    case 'json-bad':
      return { text: 'I think the answer is probably yes.' };
    default:
      return { text: `echo ${model}`, inputTokens: 3, outputTokens: 2 };
  }
}

let fake: FakeLlmServer;
let deadPort: number;
let cacheRoot: string;

beforeAll(async () => {
  fake = await new FakeLlmServer(script).start();
  // A port that nothing listens on any more: connection refused.
  const dead = await new FakeLlmServer(script).start();
  deadPort = dead.port;
  await dead.stop();
  cacheRoot = mkdtempSync(path.join(os.tmpdir(), 'lab-llm-gateway-'));
});

afterAll(async () => {
  await fake?.stop();
  if (cacheRoot) rmSync(cacheRoot, { recursive: true, force: true });
});

const compat = (model: string, baseURL = fake.openaiBaseURL) => `openai-compatible:${model}@${baseURL}`;
const openaiEnv = (): NodeJS.ProcessEnv => ({ OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: fake.openaiBaseURL });
const anthropicEnv = (): NodeJS.ProcessEnv => ({ ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: fake.anthropicBaseURL });

/** Requests the fake received for `model` since `since`. */
function requestsFor(model: string, since = 0): FakeRequest[] {
  return fake.requests.slice(since).filter((r) => r.body.model === model);
}

/** The ApplicationFailure a gateway call rejects with. */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should have failed').toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function delayMs(d: Duration | null | undefined): number | undefined {
  return d === undefined || d === null ? undefined : msToNumber(d);
}

/** Runs `fn` with LAB_LLM_TIMEOUT_MS set (providers read it when constructed), then restores it. */
async function withRequestTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.LAB_LLM_TIMEOUT_MS;
  process.env.LAB_LLM_TIMEOUT_MS = String(ms);
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.LAB_LLM_TIMEOUT_MS;
    else process.env.LAB_LLM_TIMEOUT_MS = saved;
  }
}

describe('LlmGateway: replies', () => {
  it('openai-compatible: returns the text with the server’s token counts, latency and model', async () => {
    const gateway = new LlmGateway({ env: {} });
    const seen: Array<{ spec: string }> = [];
    gateway.onCall((c) => seen.push(c));
    const since = fake.requests.length;
    const result = await gateway.complete({ model: compat('ok'), system: 'Be brief.', prompt: 'Say hello.', maxTokens: 123, temperature: 0.2 });

    expect(result.text).toBe('hello from the fake');
    expect(result.value).toBe(result.text);
    expect(result.calls).toHaveLength(1);
    const [call] = result.calls;
    expect(call).toMatchObject({ provider: 'openai-compatible', model: 'ok-0613', inputTokens: 11, outputTokens: 5, costUsd: 0, cached: false, truncated: false });
    expect(call.latencyMs).toBeGreaterThanOrEqual(20); // the fake waits 30 ms
    expect(seen).toEqual([expect.objectContaining({ spec: compat('ok'), inputTokens: 11 })]);

    const reqs = requestsFor('ok', since);
    expect(reqs).toHaveLength(1);
    expect(reqs[0]).toMatchObject({ flavour: 'openai', path: '/v1/chat/completions', prompt: 'Say hello.', system: 'Be brief.' });
    expect(reqs[0].body).toMatchObject({ max_tokens: 123, temperature: 0.2 });
    expect(reqs[0].body.response_format).toBeUndefined();
  });

  it('openai: completeJson asks for json_schema output, validates it and prices the call from prices.json', async () => {
    const gateway = new LlmGateway({ env: openaiEnv() });
    const since = fake.requests.length;
    const result = await gateway.completeJson({ model: 'openai:gpt-4.1-mini', prompt: 'Judge the idea.', maxTokens: 600 }, verdictSchema, 'verdict');

    expect(result.value).toEqual({ answer: 'calibration drifts', score: 7 });
    expect(result.calls).toHaveLength(1);
    // 1000 input tokens at $0.4/1M + 500 output tokens at $1.6/1M.
    expect(result.calls[0]).toMatchObject({ provider: 'openai', model: 'gpt-4.1-mini', inputTokens: 1000, outputTokens: 500, costUsd: 0.0012 });

    const reqs = requestsFor('gpt-4.1-mini', since);
    expect(reqs).toHaveLength(1);
    expect(reqs[0].headers.authorization).toBe(`Bearer ${SECRET}`);
    const format = reqs[0].body.response_format;
    expect(format).toMatchObject({ type: 'json_schema', json_schema: { name: 'verdict', strict: false } });
    expect(format.json_schema.schema).toMatchObject({ type: 'object', properties: { answer: { type: 'string' }, score: { type: 'number' } } });
    expect(reqs[0].system).toContain('Reply with one JSON object only');
    expect(reqs[0].body.max_tokens).toBe(600);
  });

  it('anthropic: free text, and JSON through a forced tool call', async () => {
    const gateway = new LlmGateway({ env: anthropicEnv() });
    const since = fake.requests.length;

    const text = await gateway.complete({ model: 'anthropic:claude-haiku-4-5', system: 'Be brief.', prompt: 'Say hello.', maxTokens: 50 });
    expect(text.text).toBe('hello from claude');
    // 100 input tokens at $1/1M + 20 output tokens at $5/1M.
    expect(text.calls[0]).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5', inputTokens: 100, outputTokens: 20, costUsd: 0.0002, cached: false });

    const json = await gateway.completeJson({ model: 'anthropic:claude-haiku-4-5', prompt: 'Judge the idea.', maxTokens: 200 }, verdictSchema, 'verdict');
    expect(json.value).toEqual({ answer: 'calibration drifts', score: 7 });
    expect(json.calls).toHaveLength(1);

    const reqs = requestsFor('claude-haiku-4-5', since);
    expect(reqs).toHaveLength(2);
    for (const r of reqs) {
      expect(r).toMatchObject({ flavour: 'anthropic', path: '/v1/messages' });
      expect(sentCredential(r)).toBe(SECRET);
    }
    expect(reqs[0].body).toMatchObject({ max_tokens: 50, system: 'Be brief.' });
    expect(reqs[0].body.tools).toBeUndefined();
    expect(reqs[1].body.tool_choice).toEqual({ type: 'tool', name: 'verdict' });
    expect(reqs[1].body.tools).toEqual([
      expect.objectContaining({ name: 'verdict', input_schema: expect.objectContaining({ type: 'object', properties: expect.objectContaining({ score: { type: 'number' } }) }) }),
    ]);
  });
});

describe('LlmGateway: failures map onto Temporal retry semantics', () => {
  it('429 with Retry-After is a retryable RateLimited with nextRetryDelay from the header', async () => {
    const gateway = new LlmGateway({ env: anthropicEnv() });
    const seconds = await failureOf(gateway.complete({ model: compat('rate-limited'), prompt: 'hi', maxTokens: 10 }));
    expect(seconds.type).toBe('RateLimited');
    expect(seconds.nonRetryable).toBe(false);
    expect(delayMs(seconds.nextRetryDelay)).toBe(7000);
    expect(seconds.message).toContain('retry after 7s');

    const millis = await failureOf(gateway.complete({ model: compat('rate-limited-ms'), prompt: 'hi', maxTokens: 10 }));
    expect(millis.type).toBe('RateLimited');
    expect(millis.nonRetryable).toBe(false);
    expect(delayMs(millis.nextRetryDelay)).toBe(1500);

    const anthropic = await failureOf(gateway.complete({ model: 'anthropic:rate-limited', prompt: 'hi', maxTokens: 10 }));
    expect(anthropic).toMatchObject({ type: 'RateLimited', nonRetryable: false });
    expect(delayMs(anthropic.nextRetryDelay)).toBe(7000);
  });

  it('500 is a retryable ProviderServerError', async () => {
    const gateway = new LlmGateway({ env: anthropicEnv() });
    for (const model of [compat('boom'), 'anthropic:boom']) {
      const failure = await failureOf(gateway.complete({ model, prompt: 'hi', maxTokens: 10 }));
      expect(failure, model).toMatchObject({ type: 'ProviderServerError', nonRetryable: false });
      expect(failure.message).toContain('500');
    }
  });

  it('a hang-up mid-reply and a refused connection are retryable ProviderUnavailable', async () => {
    const gateway = new LlmGateway({ env: { ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: `http://127.0.0.1:${deadPort}` } });
    const anthropicHangUp = new LlmGateway({ env: anthropicEnv() });
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['openai-compatible hang-up', () => gateway.complete({ model: compat('hangup'), prompt: 'hi', maxTokens: 10 })],
      ['anthropic hang-up', () => anthropicHangUp.complete({ model: 'anthropic:hangup', prompt: 'hi', maxTokens: 10 })],
      ['openai-compatible refused', () => gateway.complete({ model: compat('ok', `http://127.0.0.1:${deadPort}/v1`), prompt: 'hi', maxTokens: 10 })],
      ['anthropic refused', () => gateway.complete({ model: 'anthropic:ok', prompt: 'hi', maxTokens: 10 })],
    ];
    for (const [what, call] of cases) {
      const failure = await failureOf(call());
      expect(failure, what).toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
    }
  });

  it('a reply slower than LAB_LLM_TIMEOUT_MS is a retryable ProviderTimeout', async () => {
    await withRequestTimeout(300, async () => {
      const gateway = new LlmGateway({ env: anthropicEnv() });
      for (const model of [compat('slow'), 'anthropic:slow']) {
        const started = Date.now();
        const failure = await failureOf(gateway.complete({ model, prompt: 'hi', maxTokens: 10 }));
        const elapsed = Date.now() - started;
        expect(failure, model).toMatchObject({ type: 'ProviderTimeout', nonRetryable: false });
        // Gave up at the configured 300 ms, not when the fake finally answered at 1500 ms.
        expect(elapsed, model).toBeGreaterThanOrEqual(250);
        expect(elapsed, model).toBeLessThan(1200);
      }
    });
  });

  it('401 is a non-retryable AuthError naming the key variable to fix', async () => {
    const openai = await failureOf(new LlmGateway({ env: openaiEnv() }).complete({ model: 'openai:auth', prompt: 'hi', maxTokens: 10 }));
    expect(openai).toMatchObject({ type: 'AuthError', nonRetryable: true });
    expect(openai.message).toContain('OPENAI_API_KEY');
    expect(openai.message).toContain('401');

    const anthropic = await failureOf(new LlmGateway({ env: anthropicEnv() }).complete({ model: 'anthropic:auth', prompt: 'hi', maxTokens: 10 }));
    expect(anthropic).toMatchObject({ type: 'AuthError', nonRetryable: true });
    expect(anthropic.message).toContain('ANTHROPIC_API_KEY');
  });

  it('404 is a non-retryable ConfigError and 400 a non-retryable InvalidInput', async () => {
    const gateway = new LlmGateway({ env: anthropicEnv() });
    for (const model of [compat('missing'), 'anthropic:missing']) {
      const failure = await failureOf(gateway.complete({ model, prompt: 'hi', maxTokens: 10 }));
      expect(failure, model).toMatchObject({ type: 'ConfigError', nonRetryable: true });
      expect(failure.message, model).toContain('404');
    }
    for (const model of [compat('bad'), 'anthropic:bad']) {
      const failure = await failureOf(gateway.complete({ model, prompt: 'hi', maxTokens: 10 }));
      expect(failure, model).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
      expect(failure.message, model).toContain('messages: field required');
    }
  });

  it('an HTTP error whose message mentions a timeout keeps the meaning of its status', async () => {
    const gateway = new LlmGateway({ env: {} });
    const rejected = await failureOf(gateway.complete({ model: compat('bad-timeout'), prompt: 'hi', maxTokens: 10 }));
    expect(rejected).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    const limited = await failureOf(gateway.complete({ model: compat('rate-limited-timeout'), prompt: 'hi', maxTokens: 10 }));
    expect(limited).toMatchObject({ type: 'RateLimited', nonRetryable: false });
    expect(delayMs(limited.nextRetryDelay)).toBe(30_000);
  });

  it('a missing key or an unknown model spec is a non-retryable ConfigError before any request', async () => {
    const gateway = new LlmGateway({ env: {} });
    const since = fake.requests.length;
    const cases: Array<[string, string]> = [
      ['openai:gpt-4.1-mini', 'OPENAI_API_KEY'],
      ['anthropic:claude-haiku-4-5', 'ANTHROPIC_API_KEY'],
      ['openrouter:google/gemini-2.5-pro', 'OPENROUTER_API_KEY'],
      ['foo:bar', 'unknown model spec'],
      ['openai-compatible:ok', 'OPENAI_COMPATIBLE_BASE_URL'],
    ];
    for (const [model, named] of cases) {
      const failure = await failureOf(gateway.complete({ model, prompt: 'hi', maxTokens: 10 }));
      expect(failure, model).toMatchObject({ type: 'ConfigError', nonRetryable: true });
      expect(failure.message, model).toContain(named);
    }
    expect(fake.requests.length).toBe(since);
  });

  it('never puts the API key into a failure, even when the endpoint echoes it back', async () => {
    for (const [gateway, model] of [
      [new LlmGateway({ env: openaiEnv() }), 'openai:auth'],
      [new LlmGateway({ env: anthropicEnv() }), 'anthropic:auth'],
      [new LlmGateway({ env: { OPENAI_COMPATIBLE_API_KEY: SECRET } }), compat('auth')],
    ] as const) {
      const since = fake.requests.length;
      const failure = await failureOf(gateway.complete({ model, prompt: 'hi', maxTokens: 10 }));
      // The key did reach the server, and the server put it into its error body.
      const sent = requestsFor('auth', since)[0];
      expect(sentCredential(sent), model).toBe(SECRET);
      expect(failure, model).toMatchObject({ type: 'AuthError', nonRetryable: true });

      const everything = [
        failure.message,
        String(failure),
        failure.stack ?? '',
        JSON.stringify(failure),
        JSON.stringify(failure.details ?? null),
        String(failure.cause ?? ''),
        (failure.cause as Error | undefined)?.stack ?? '',
      ].join('\n');
      expect(everything, model).not.toContain(SECRET);
      expect(everything, model).not.toContain('DO-NOT-LEAK');
    }
  });
});

describe('LlmGateway: JSON re-ask', () => {
  it('re-asks once with the validation error after truncated JSON, then succeeds', async () => {
    const gateway = new LlmGateway({ env: {} });
    const since = fake.requests.length;
    const result = await gateway.completeJson({ model: compat('json-fix'), prompt: 'Judge the idea.', maxTokens: 100 }, verdictSchema);

    expect(result.value).toEqual({ answer: 'calibration drifts', score: 7 });
    expect(result.calls).toHaveLength(2);
    const reqs = requestsFor('json-fix', since);
    expect(reqs).toHaveLength(2);
    expect(reqs[0].body.response_format).toEqual({ type: 'json_object' });
    const [, second] = reqs;
    expect(second.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(second.body.messages[2].content).toBe('{"answer": "calibration dri');
    expect(second.prompt).toContain('That reply is not valid: not parseable JSON');
  });

  it('invalid JSON twice is a non-retryable BadModelOutput', async () => {
    const gateway = new LlmGateway({ env: {} });
    const since = fake.requests.length;
    const failure = await failureOf(gateway.completeJson({ model: compat('json-bad'), prompt: 'Judge the idea.', maxTokens: 100 }, verdictSchema));
    expect(failure).toMatchObject({ type: 'BadModelOutput', nonRetryable: true });
    expect(failure.message).toContain('invalid JSON twice');
    expect(requestsFor('json-bad', since)).toHaveLength(2);
  });
});

describe('LlmGateway: budget', () => {
  it('refuses a call the budget cannot pay for, before any request', async () => {
    const gateway = new LlmGateway({ env: openaiEnv() });
    const since = fake.requests.length;
    const byTokens = await failureOf(gateway.complete({ model: compat('ok'), prompt: 'Say hello.', maxTokens: 500, budgetLeft: { tokens: 20 } }));
    expect(byTokens).toMatchObject({ type: 'BudgetExhausted', nonRetryable: true });
    expect(byTokens.message).toContain('20 tokens');

    const byUsd = await failureOf(gateway.complete({ model: 'openai:gpt-4.1-mini', prompt: 'Say hello.', maxTokens: 500, budgetLeft: { usd: 0.00001 } }));
    expect(byUsd).toMatchObject({ type: 'BudgetExhausted', nonRetryable: true });
    expect(fake.requests.length).toBe(since);
  });

  it('never shortens max_tokens to fit: a call the budget cannot pay for in full is refused, one it can is sent whole', async () => {
    const gateway = new LlmGateway({ env: openaiEnv() });
    const prompt = 'p'.repeat(40); // estimated at 10 input tokens
    const since = fake.requests.length;

    // 10 input + 500 output tokens: 509 left is one short.
    const byTokens = await failureOf(gateway.complete({ model: compat('ok'), prompt, maxTokens: 500, budgetLeft: { tokens: 509 } }));
    expect(byTokens).toMatchObject({ type: 'BudgetExhausted', nonRetryable: true });
    expect(byTokens.message).toBe(`budget exhausted: 509 tokens left, the next ${compat('ok')} call needs up to 510 (~10 input + 500 output tokens)`);
    await gateway.complete({ model: compat('ok'), prompt, maxTokens: 500, budgetLeft: { tokens: 510 } });

    // 10 input tokens at $0.4/1M + 500 output tokens at $1.6/1M = $0.000804.
    const byUsd = await failureOf(gateway.complete({ model: 'openai:gpt-4.1-mini', prompt, maxTokens: 500, budgetLeft: { usd: 0.0008 } }));
    expect(byUsd).toMatchObject({ type: 'BudgetExhausted', nonRetryable: true });
    expect(byUsd.message).toContain('$0.000800 left');
    expect(byUsd.message).toContain('needs up to $0.000804');
    await gateway.complete({ model: 'openai:gpt-4.1-mini', prompt, maxTokens: 500, budgetLeft: { usd: 0.000804 } });

    // Every request that went out asked for the full 500 tokens.
    expect(requestsFor('ok', since).map((r) => r.body.max_tokens)).toEqual([500]);
    expect(requestsFor('gpt-4.1-mini', since).map((r) => r.body.max_tokens)).toEqual([500]);
  });

  it('refuses a USD budget on a model without a price (a ConfigError, before any request)', async () => {
    const gateway = new LlmGateway({ env: openaiEnv() });
    const since = fake.requests.length;
    // openai-compatible and embedded are $0 in the table; openai:unpriced-model is not in it at all.
    for (const model of [compat('ok'), 'embedded', 'openai:unpriced-model']) {
      const failure = await failureOf(gateway.complete({ model, prompt: 'hi', maxTokens: 10, budgetLeft: { usd: 5 } }));
      expect(failure, model).toMatchObject({ type: 'ConfigError', nonRetryable: true });
      expect(failure.message, model).toContain(`--budget-usd needs a price for ${model}`);
      expect(failure.message, model).toContain('--max-tokens');
      expect(failure.message, model).toContain('LAB_PRICES_FILE');
    }
    expect(fake.requests.length).toBe(since);
    // A token budget on the same model is enforceable and goes through.
    await gateway.complete({ model: compat('ok'), prompt: 'hi', maxTokens: 10, budgetLeft: { tokens: 1000 } });
    expect(fake.requests.length).toBe(since + 1);
  });
});

describe('LlmGateway: a reply cut short at its output limit', () => {
  it('is continued with the text so far until it finishes, through both SDKs', async () => {
    for (const [gateway, model] of [
      [new LlmGateway({ env: {} }), compat('cut-twice')],
      [new LlmGateway({ env: anthropicEnv() }), 'anthropic:cut-twice'],
    ] as const) {
      const since = fake.requests.length;
      const progress: number[] = [];
      const result = await gateway.completeInFull({ model, system: 'Be brief.', prompt: 'Write it.', maxTokens: 50, onProgress: (n) => progress.push(n) });
      expect(result.text, model).toBe('Part one, part two, the end.');
      expect(result.calls.map((c) => c.truncated), model).toEqual([true, true, false]);

      const reqs = requestsFor('cut-twice', since);
      expect(reqs, model).toHaveLength(3);
      expect(reqs.map((r) => r.body.max_tokens), model).toEqual([50, 50, 50]);
      expect(reqs[0].prompt).toBe('Write it.');
      const turns = (r: FakeRequest) => r.body.messages.filter((m: { role: string }) => m.role !== 'system');
      expect(turns(reqs[2]).map((m: { role: string }) => m.role), model).toEqual(['user', 'assistant', 'user']);
      expect(turns(reqs[2])[0].content, model).toBe('Write it.');
      expect(turns(reqs[2])[1].content, model).toBe('Part one, part two, ');
      expect(reqs[2].prompt, model).toBe(CONTINUE_PROMPT);
      expect(reqs[2].system, model).toBe('Be brief.');
    }
  });

  it('still cut short after the continuations allowed is a non-retryable OutputTruncated that says what to raise', async () => {
    const gateway = new LlmGateway({ env: {} });
    const since = fake.requests.length;
    const failure = await failureOf(
      gateway.completeInFull({ model: compat('cut-forever'), prompt: 'Write it.', maxTokens: 50 }, { maxContinuations: 2, raise: ['LAB_EMBEDDED_MAX_TOKENS (50 now)'] }),
    );
    expect(failure).toMatchObject({ type: 'OutputTruncated', nonRetryable: true });
    expect(failure.message).toContain(compat('cut-forever'));
    expect(failure.message).toContain('output limit of 50 tokens 3 times');
    expect(failure.message).toContain('raise LAB_EMBEDDED_MAX_TOKENS (50 now) or LAB_LLM_MAX_CONTINUATIONS (2 now)');
    expect(requestsFor('cut-forever', since)).toHaveLength(3);

    // No continuations allowed: the first cut-short reply already fails.
    const none = await failureOf(gateway.completeInFull({ model: compat('cut-twice'), prompt: 'Write it.', maxTokens: 50 }, { maxContinuations: 0 }));
    expect(none).toMatchObject({ type: 'OutputTruncated', nonRetryable: true });
  });

  it('each continuation is budget-checked in full against what the earlier turns left', async () => {
    const gateway = new LlmGateway({ env: {} });
    const since = fake.requests.length;
    // 'Write it.' is ~3 input tokens + 50 output: the first call fits in 100 tokens. It costs 60
    // (the fake reports 10 in + 50 out), and the continuation (~3 + ~3 + ~25 input + 50 output) does not fit in the 40 left.
    const failure = await failureOf(gateway.completeInFull({ model: compat('cut-twice'), prompt: 'Write it.', maxTokens: 50, budgetLeft: { tokens: 100 } }));
    expect(failure).toMatchObject({ type: 'BudgetExhausted', nonRetryable: true });
    expect(failure.message).toMatch(/^budget exhausted: 40 tokens left/);
    expect(requestsFor('cut-twice', since)).toHaveLength(1);
  });

  it('a retried call re-uses the turns it already paid for from the cache', async () => {
    const cacheDir = path.join(cacheRoot, 'continuations');
    const req = { model: compat('cut-flaky'), prompt: 'Write it.', maxTokens: 50, cacheKey: 'run-2/proposal/revision-0' };
    const since = fake.requests.length;

    // The second turn fails with a 500 (Temporal would retry the activity)...
    flakyFailures = 1;
    const failed = await failureOf(new LlmGateway({ cacheDir, env: {} }).completeInFull(req));
    expect(failed).toMatchObject({ type: 'ProviderServerError', nonRetryable: false });
    expect(requestsFor('cut-flaky', since)).toHaveLength(2);

    // ...and the retry takes the first turn from the cache and pays only for the rest.
    const retried = await new LlmGateway({ cacheDir, env: {} }).completeInFull(req);
    expect(retried.text).toBe('Part one, part two, the end.');
    expect(retried.calls.map((c) => c.cached)).toEqual([true, false, false]);
    expect(requestsFor('cut-flaky', since)).toHaveLength(4);

    // A third attempt pays for nothing.
    const again = await new LlmGateway({ cacheDir, env: {} }).completeInFull(req);
    expect(again.text).toBe(retried.text);
    expect(again.calls.map((c) => c.cached)).toEqual([true, true, true]);
    expect(requestsFor('cut-flaky', since)).toHaveLength(4);
  });
});

describe('LlmGateway: call cache', () => {
  it('serves a repeated cacheKey from the cache without a request, across gateway instances', async () => {
    const cacheDir = path.join(cacheRoot, 'cache');
    const req = { model: compat('ok'), prompt: 'Cache me.', maxTokens: 40, cacheKey: 'run-1/ideation/0' };
    const since = fake.requests.length;

    const first = await new LlmGateway({ cacheDir, env: {} }).complete(req);
    expect(first.calls[0].cached).toBe(false);
    expect(requestsFor('ok', since)).toHaveLength(1);

    const gateway = new LlmGateway({ cacheDir, env: {} });
    const second = await gateway.complete(req);
    expect(requestsFor('ok', since)).toHaveLength(1);
    expect(second.text).toBe(first.text);
    expect(second.calls[0]).toMatchObject({ cached: true, latencyMs: 0, inputTokens: 11, outputTokens: 5, model: 'ok-0613' });

    // Another key, or no cache directory, goes to the server again.
    await gateway.complete({ ...req, cacheKey: 'run-1/ideation/1' });
    await new LlmGateway({ env: {} }).complete(req);
    expect(requestsFor('ok', since)).toHaveLength(3);
  });
});

describe('parseJson', () => {
  const schema = z.object({ action: z.string(), content: z.string().optional() });
  it('reads a JSON object whose strings hold code fences as it stands (the experiment agent writing a README)', () => {
    const written = { action: 'write_file', content: 'Run it:\n```python\ndef f():\n    return 1\n```\n' };
    expect(parseJson(JSON.stringify(written), schema)).toEqual({ ok: true, value: written });
  });
  it('still takes the object out of a fenced reply, with or without prose around it', () => {
    expect(parseJson('```json\n{"action":"finish"}\n```', schema)).toEqual({ ok: true, value: { action: 'finish' } });
    expect(parseJson('Here it is:\n```\n{"action":"finish"}\n```\nDone.', schema)).toEqual({ ok: true, value: { action: 'finish' } });
    expect(parseJson('Here:\n```json\n{"action":"run"}\n```', schema)).toEqual({ ok: true, value: { action: 'run' } });
    expect(parseJson('no JSON here', schema)).toMatchObject({ ok: false, error: expect.stringMatching(/^not parseable JSON/) });
  });
});
