/**
 * The LLM gateway: the one way agent stages and judges call a model. Runs inside activities.
 * It picks the provider from the model spec, asks for JSON when given a zod schema (and
 * re-asks once with the validation error), asks the model to continue a reply cut short at its
 * output limit, refuses a call that what is left of the run's budget cannot pay for in full,
 * caches finished calls so a retried activity never pays twice, and reports tokens and cost.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { budgetAfter } from '../../common/budget.js';
import type { Budget } from '../../common/schemas.js';
import { AnthropicProvider } from './anthropicProvider.js';
import { EmbeddedProvider } from './embeddedProvider.js';
import { budgetExhausted, configError, LLM_ERROR_TYPES, outputTruncated } from './errors.js';
import { ModelSpecError, parseModelSpec, type ModelSpec } from '../../common/modelSpec.js';
import { OpenAIProvider } from './openaiProvider.js';
import { costUsd, priceFor, unenforceableBudget, type Price } from './prices.js';
import type { ChatMessage, LlmProvider, ProviderReply } from './provider.js';
import { folderCallCache, type CallCache } from './callCache.js';

export interface LlmRequest {
  /** Model spec, e.g. `openai:gpt-4.1-mini` or `embedded`. */
  model: string;
  system?: string;
  prompt: string;
  maxTokens: number;
  temperature?: number;
  reasoningEffort?: 'low' | 'medium' | 'high';
  /** What is left of the run's budget; a call it cannot pay for at full `maxTokens` is refused (BudgetExhausted). */
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

/** Continuations allowed after a cut-short first reply unless the caller says otherwise. */
export const DEFAULT_MAX_CONTINUATIONS = 3;

/** The user turn that asks for the rest of a reply cut short at its output limit. */
export const CONTINUE_PROMPT =
  'Continue exactly where you stopped. Do not repeat anything you already wrote and do not start over.';

export interface ContinueOptions {
  /** Continuation calls allowed after the first one (default DEFAULT_MAX_CONTINUATIONS). */
  maxContinuations?: number;
  /** Named in the OutputTruncated message as the setting to raise, e.g. `LAB_EMBEDDED_MAX_TOKENS (512 now)`. */
  raise?: string[];
}

/** Callers can observe every call (tests count them; workers log them). */
export type CallListener = (call: LlmCall & { spec: string }) => void;

export class LlmGateway {
  private readonly providers = new Map<string, LlmProvider>();
  private readonly listeners: CallListener[] = [];

  private readonly cache: CallCache | undefined;

  /** `cache` (else a folder cache in `cacheDir`, else none) keeps finished calls. */
  constructor(private readonly options: { cacheDir?: string; cache?: CallCache; env?: NodeJS.ProcessEnv } = {}) {
    this.cache = options.cache ?? (options.cacheDir ? folderCallCache(options.cacheDir) : undefined);
  }

  /** The environment providers read keys and endpoints from (the worker's, unless a test gave one). */
  get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  onCall(listener: CallListener): void {
    this.listeners.push(listener);
  }

  /** Free-text call; returns markdown, which may be cut short (see `calls[].truncated`, or use `completeInFull`). */
  async complete(req: LlmRequest): Promise<LlmResult<string>> {
    const spec = this.spec(req.model);
    const reply = await this.call(spec, req, [{ role: 'user', content: req.prompt }], undefined, 0);
    return { text: reply.text, value: reply.text, calls: [reply.call] };
  }

  /**
   * Free-text call that never returns a reply cut short at its output limit. While the reply stops
   * at `maxTokens`, the model gets its text so far back with CONTINUE_PROMPT, and the pieces are
   * joined. Each continuation is a normal call: budget-checked at full size against what is left
   * after the earlier turns (so a budget that cannot pay for it ends in BudgetExhausted), and cached
   * under its turn index (so a retried activity re-uses the turns it already paid for). Still cut
   * short after `maxContinuations`: a non-retryable OutputTruncated that says what to raise.
   */
  async completeInFull(req: LlmRequest, options: ContinueOptions = {}): Promise<LlmResult<string>> {
    const spec = this.spec(req.model);
    const limit = options.maxContinuations ?? DEFAULT_MAX_CONTINUATIONS;
    const calls: LlmCall[] = [];
    let text = '';
    let budgetLeft = req.budgetLeft;
    for (let turn = 0; ; turn++) {
      const messages: ChatMessage[] = [{ role: 'user', content: req.prompt }];
      if (turn > 0) messages.push({ role: 'assistant', content: text }, { role: 'user', content: CONTINUE_PROMPT });
      const before = calls.reduce((n, c) => n + c.outputTokens, 0);
      const onProgress = req.onProgress && ((n: number) => req.onProgress!(before + n));
      const reply = await this.call(spec, { ...req, budgetLeft, onProgress }, messages, undefined, turn);
      calls.push(reply.call);
      text += reply.text;
      if (!reply.call.truncated) return { text, value: text, calls };
      if (turn >= limit) {
        const written = calls.reduce((n, c) => n + c.outputTokens, 0);
        const raise = [...(options.raise ?? []), `LAB_LLM_MAX_CONTINUATIONS (${limit} now)`];
        throw outputTruncated(
          `${spec.spec} (${reply.call.model}) stopped at its output limit of ${req.maxTokens} tokens ${calls.length} times ` +
            `(${limit} continuation${limit === 1 ? '' : 's'}, ${written} output tokens in all) and never finished its reply; ` +
            `raise ${raise.join(' or ')}`,
        );
      }
      budgetLeft = budgetAfter(budgetLeft, reply.call);
    }
  }

  /** Structured call: JSON validated against `schema`, re-asked once with the validation error. */
  async completeJson<S extends z.ZodType>(req: LlmRequest, schema: S, name = 'answer'): Promise<LlmResult<z.output<S>>> {
    const spec = this.spec(req.model);
    const json = { name, schema: jsonSchemaOf(schema) };
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
      req = { ...req, budgetLeft: budgetAfter(req.budgetLeft, reply.call) };
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

  /** One provider call; `turn` (0 first, then each re-ask or continuation) is part of the cache key. */
  private async call(
    spec: ModelSpec,
    req: LlmRequest,
    messages: ChatMessage[],
    json: { name: string; schema: Record<string, unknown> } | undefined,
    turn: number,
  ): Promise<{ text: string; call: LlmCall }> {
    const price = priceFor(spec.provider, spec.model);
    this.checkBudget(spec, req, messages, price);
    const maxTokens = req.maxTokens;
    const cacheKey = this.cacheDigest(req, spec, messages, maxTokens, json, turn);
    const cached = cacheKey ? await this.cache!.read(cacheKey) : undefined;
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
      if (cacheKey) await this.cache!.write(cacheKey, reply);
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
   * Refuses a call that what is left of the budget cannot pay for at its full size: input
   * (estimated at 4 characters a token) plus the whole `maxTokens`. The call is never shortened
   * to fit, as a reply cut short by a shrunken limit would pass for a finished one.
   */
  private checkBudget(spec: ModelSpec, req: LlmRequest, messages: ChatMessage[], price: Price | undefined): void {
    const left = req.budgetLeft;
    if (!left) return;
    // A USD budget on a model without a price would be silently ignored; refuse it instead.
    const unenforceable = unenforceableBudget(spec, left);
    if (unenforceable) throw configError(unenforceable);
    const inputChars = (req.system?.length ?? 0) + messages.reduce((n, m) => n + m.content.length, 0);
    const inputEstimate = Math.ceil(inputChars / 4);
    const needs = `~${inputEstimate} input + ${req.maxTokens} output tokens`;
    if (left.tokens !== undefined && left.tokens < inputEstimate + req.maxTokens) {
      throw budgetExhausted(
        `budget exhausted: ${left.tokens} tokens left, the next ${spec.spec} call needs up to ${inputEstimate + req.maxTokens} (${needs})`,
      );
    }
    if (left.usd !== undefined && price) {
      const usd = (inputEstimate * price.input + req.maxTokens * price.output) / 1e6;
      if (left.usd < usd) {
        throw budgetExhausted(
          `budget exhausted: $${left.usd.toFixed(6)} left, the next ${spec.spec} call needs up to $${usd.toFixed(6)} (${needs})`,
        );
      }
    }
  }

  private cacheDigest(
    req: LlmRequest,
    spec: ModelSpec,
    messages: ChatMessage[],
    maxTokens: number,
    json: unknown,
    turn: number,
  ): string | undefined {
    if (!req.cacheKey || !this.cache) return undefined;
    return createHash('sha256')
      .update(JSON.stringify([req.cacheKey, spec.spec, req.system ?? '', messages, maxTokens, json ?? null, turn]))
      .digest('hex');
  }
}

/** Parses JSON out of a reply (tolerating a ```json fence) and validates it. */
export function parseJson<S extends z.ZodType>(text: string, schema: S): { ok: true; value: z.output<S> } | { ok: false; error: string } {
  // The reply as it stands first: a JSON object whose strings hold code may contain ``` fences itself.
  // Then a reply that is one fenced block, a ```json block inside prose, any fenced block.
  const candidates = [text, /^\s*```(?:json)?\s*([\s\S]*)```\s*$/.exec(text)?.[1], /```json\s*([\s\S]*?)```/.exec(text)?.[1], /```\s*([\s\S]*?)```/.exec(text)?.[1]];
  let data: unknown;
  let firstError: Error | undefined;
  let parsed = false;
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    try {
      data = JSON.parse(candidate.trim());
      parsed = true;
      break;
    } catch (err) {
      firstError ??= err as Error;
    }
  }
  if (!parsed) return { ok: false, error: `not parseable JSON (${firstError?.message ?? 'empty reply'})` };
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

/** JSON Schemas of the reply schemas, made once each: converting is a large part of a call's CPU. */
const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let json = jsonSchemas.get(schema);
  if (!json) {
    json = frozen(z.toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>);
    jsonSchemas.set(schema, json);
  }
  return json;
}

/** Shared by every call: frozen, so a provider that changed it would fail loudly instead of changing the next call. */
function frozen<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}
