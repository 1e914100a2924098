/**
 * The LLM gateway: the one way agent stages and judges call a model. Runs inside activities.
 * It picks the provider from the model spec, asks for JSON when given a zod schema (and
 * re-asks once with the validation error), enforces what is left of the run's budget, caches
 * finished calls so a retried activity never pays twice, and reports tokens and cost.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { Budget } from '../../common/schemas.js';
import { AnthropicProvider } from './anthropicProvider.js';
import { EmbeddedProvider } from './embeddedProvider.js';
import { budgetExhausted, configError, LLM_ERROR_TYPES } from './errors.js';
import { ModelSpecError, parseModelSpec, type ModelSpec } from '../../common/modelSpec.js';
import { OpenAIProvider } from './openaiProvider.js';
import { costUsd, priceFor } from './prices.js';
import type { ChatMessage, LlmProvider, ProviderReply } from './provider.js';

export interface LlmRequest {
  /** Model spec, e.g. `openai:gpt-4.1-mini` or `embedded`. */
  model: string;
  system?: string;
  prompt: string;
  maxTokens: number;
  temperature?: number;
  reasoningEffort?: 'low' | 'medium' | 'high';
  /** What is left of the run's budget; the call is refused or shortened so it cannot overrun it. */
  budgetLeft?: Budget;
  /** Stable key for this logical call (run, stage, revision); a repeated key returns the stored reply. */
  cacheKey?: string;
  signal?: AbortSignal;
  /** Output tokens so far, for providers that stream (for heartbeat progress). */
  onProgress?: (outputTokens: number) => void;
}

export interface LlmCall {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  /** True when the reply came from the call cache (already paid for). */
  cached: boolean;
  truncated: boolean;
}

export interface LlmResult<T = string> {
  text: string;
  value: T;
  /** One entry per provider call made (two when JSON had to be re-asked). */
  calls: LlmCall[];
}

/** Callers can observe every call (tests count them; workers log them). */
export type CallListener = (call: LlmCall & { spec: string }) => void;

export class LlmGateway {
  private readonly providers = new Map<string, LlmProvider>();
  private readonly listeners: CallListener[] = [];

  constructor(private readonly options: { cacheDir?: string; env?: NodeJS.ProcessEnv } = {}) {}

  onCall(listener: CallListener): void {
    this.listeners.push(listener);
  }

  /** Free-text call; returns markdown. */
  async complete(req: LlmRequest): Promise<LlmResult<string>> {
    const spec = this.spec(req.model);
    const reply = await this.call(spec, req, [{ role: 'user', content: req.prompt }], undefined, 0);
    return { text: reply.text, value: reply.text, calls: [reply.call] };
  }

  /** Structured call: JSON validated against `schema`, re-asked once with the validation error. */
  async completeJson<S extends z.ZodType>(req: LlmRequest, schema: S, name = 'answer'): Promise<LlmResult<z.output<S>>> {
    const spec = this.spec(req.model);
    const json = { name, schema: z.toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown> };
    const system = `${req.system ? `${req.system}\n\n` : ''}Reply with one JSON object only, no prose, matching this JSON Schema:\n${JSON.stringify(json.schema)}`;
    const messages: ChatMessage[] = [{ role: 'user', content: req.prompt }];
    const calls: LlmCall[] = [];
    let lastError = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await this.call(spec, { ...req, system }, messages, json, attempt);
      calls.push(reply.call);
      const checked = parseJson(reply.text, schema);
      if (checked.ok) return { text: reply.text, value: checked.value, calls };
      lastError = checked.error;
      messages.push(
        { role: 'assistant', content: reply.text },
        { role: 'user', content: `That reply is not valid: ${checked.error}\nReply again with the corrected JSON object only.` },
      );
      // Budget for the re-ask shrinks by what the first try cost.
      req = { ...req, budgetLeft: shrinkBudget(req.budgetLeft, reply.call) };
    }
    throw ApplicationFailure.nonRetryable(
      `${spec.spec} returned invalid JSON twice (${lastError})`,
      LLM_ERROR_TYPES.badOutput,
    );
  }

  private spec(model: string): ModelSpec {
    try {
      return parseModelSpec(model);
    } catch (err) {
      if (err instanceof ModelSpecError) throw configError(err.message);
      throw err;
    }
  }

  private provider(spec: ModelSpec): LlmProvider {
    let provider = this.providers.get(spec.spec);
    if (!provider) {
      const env = this.options.env ?? process.env;
      provider =
        spec.provider === 'anthropic'
          ? new AnthropicProvider(spec, env)
          : spec.provider === 'embedded'
            ? new EmbeddedProvider(spec.model)
            : new OpenAIProvider(spec, env);
      this.providers.set(spec.spec, provider);
    }
    return provider;
  }

  private async call(
    spec: ModelSpec,
    req: LlmRequest,
    messages: ChatMessage[],
    json: { name: string; schema: Record<string, unknown> } | undefined,
    attempt: number,
  ): Promise<{ text: string; call: LlmCall }> {
    const price = priceFor(spec.provider, spec.model);
    const maxTokens = this.clampToBudget(spec, req, messages, price);
    const cacheFile = this.cacheFile(req, spec, messages, maxTokens, json, attempt);
    const cached = cacheFile ? await readCache(cacheFile) : undefined;
    let reply: ProviderReply;
    let latencyMs = 0;
    if (cached) {
      reply = cached;
    } else {
      const started = Date.now();
      reply = await this.provider(spec).chat({
        system: req.system,
        messages,
        maxTokens,
        temperature: req.temperature,
        reasoningEffort: req.reasoningEffort,
        json,
        signal: req.signal,
        onProgress: req.onProgress,
      });
      latencyMs = Date.now() - started;
      if (cacheFile) await writeCache(cacheFile, reply);
    }
    const call: LlmCall = {
      provider: spec.provider,
      model: reply.model,
      inputTokens: reply.inputTokens,
      outputTokens: reply.outputTokens,
      costUsd: costUsd(price, reply.inputTokens, reply.outputTokens),
      latencyMs,
      cached: Boolean(cached),
      truncated: reply.truncated,
    };
    for (const listener of this.listeners) listener({ ...call, spec: spec.spec });
    return { text: reply.text, call };
  }

  /**
   * Shortens max output tokens so the call cannot overrun the budget; refuses the call when
   * what is left would not buy a useful answer. Input tokens are estimated at 4 characters each.
   */
  private clampToBudget(spec: ModelSpec, req: LlmRequest, messages: ChatMessage[], price: ReturnType<typeof priceFor>): number {
    let maxTokens = req.maxTokens;
    const left = req.budgetLeft;
    if (!left) return maxTokens;
    const inputChars = (req.system?.length ?? 0) + messages.reduce((n, m) => n + m.content.length, 0);
    const inputEstimate = Math.ceil(inputChars / 4);
    const floor = Math.min(64, req.maxTokens);
    if (left.tokens !== undefined) maxTokens = Math.min(maxTokens, left.tokens - inputEstimate);
    if (left.usd !== undefined && price && price.output > 0) {
      const usdForOutput = left.usd - (inputEstimate * price.input) / 1e6;
      maxTokens = Math.min(maxTokens, Math.floor((usdForOutput * 1e6) / price.output));
    }
    if (maxTokens < floor) {
      const what = left.tokens !== undefined && left.tokens - inputEstimate < floor ? `${left.tokens} tokens` : `$${left.usd?.toFixed(4)}`;
      throw budgetExhausted(`budget exhausted: ${what} left, not enough for the next ${spec.spec} call (~${inputEstimate} input tokens)`);
    }
    return maxTokens;
  }

  private cacheFile(
    req: LlmRequest,
    spec: ModelSpec,
    messages: ChatMessage[],
    maxTokens: number,
    json: unknown,
    attempt: number,
  ): string | undefined {
    if (!req.cacheKey || !this.options.cacheDir) return undefined;
    const digest = createHash('sha256')
      .update(JSON.stringify([req.cacheKey, spec.spec, req.system ?? '', messages, maxTokens, json ?? null, attempt]))
      .digest('hex');
    return path.join(this.options.cacheDir, digest.slice(0, 2), `${digest}.json`);
  }
}

function shrinkBudget(budget: Budget | undefined, call: LlmCall): Budget | undefined {
  if (!budget) return budget;
  return {
    usd: budget.usd === undefined ? undefined : Math.max(0, budget.usd - call.costUsd),
    tokens: budget.tokens === undefined ? undefined : Math.max(0, budget.tokens - call.inputTokens - call.outputTokens),
  };
}

/** Parses JSON out of a reply (tolerating a ```json fence) and validates it. */
export function parseJson<S extends z.ZodType>(text: string, schema: S): { ok: true; value: z.output<S> } | { ok: false; error: string } {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const candidate = (fenced ? fenced[1] : text).trim();
  let data: unknown;
  try {
    data = JSON.parse(candidate);
  } catch (err) {
    return { ok: false, error: `not parseable JSON (${(err as Error).message})` };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

async function readCache(file: string): Promise<ProviderReply | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as ProviderReply;
  } catch {
    return undefined;
  }
}

async function writeCache(file: string, reply: ProviderReply): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(reply));
  await fs.rename(tmp, file);
}
