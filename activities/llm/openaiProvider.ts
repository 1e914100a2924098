/** OpenAI, OpenRouter and OpenAI-compatible servers (Ollama, vLLM, llama.cpp, LM Studio) through the official SDK. */
import OpenAI from 'openai';
import { configError, toTemporalFailure } from './errors.js';
import type { ModelSpec } from '../../common/modelSpec.js';
import { requestTimeoutMs, type LlmProvider, type ProviderReply, type ProviderRequest } from './provider.js';

const OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';

interface Endpoint {
  baseURL?: string;
  apiKey: string;
  keyVariable?: string;
}

function endpointFor(spec: ModelSpec, env: NodeJS.ProcessEnv): Endpoint {
  switch (spec.provider) {
    case 'openai': {
      const apiKey = env.OPENAI_API_KEY;
      if (!apiKey) throw configError(`model ${spec.spec} needs OPENAI_API_KEY set in the worker's environment`);
      return { apiKey, baseURL: env.OPENAI_BASE_URL || undefined, keyVariable: 'OPENAI_API_KEY' };
    }
    case 'openrouter': {
      const apiKey = env.OPENROUTER_API_KEY;
      if (!apiKey) throw configError(`model ${spec.spec} needs OPENROUTER_API_KEY set in the worker's environment`);
      return { apiKey, baseURL: env.OPENROUTER_BASE_URL || OPENROUTER_BASE_URL, keyVariable: 'OPENROUTER_API_KEY' };
    }
    case 'openai-compatible': {
      const baseURL = spec.baseURL ?? env.OPENAI_COMPATIBLE_BASE_URL;
      if (!baseURL) {
        throw configError(`model ${spec.spec} needs a base URL: write openai-compatible:<model>@http://host:port/v1 or set OPENAI_COMPATIBLE_BASE_URL`);
      }
      // Local servers usually ignore the key, but the SDK insists on one.
      return { baseURL, apiKey: env.OPENAI_COMPATIBLE_API_KEY || 'not-needed', keyVariable: 'OPENAI_COMPATIBLE_API_KEY' };
    }
    default:
      throw configError(`provider ${spec.provider} is not served by the OpenAI adapter`);
  }
}

export class OpenAIProvider implements LlmProvider {
  private readonly client: OpenAI;
  private readonly keyVariable?: string;

  constructor(private readonly spec: ModelSpec, env: NodeJS.ProcessEnv = process.env) {
    const endpoint = endpointFor(spec, env);
    this.keyVariable = endpoint.keyVariable;
    // maxRetries 0: Temporal owns retries, so each attempt is visible in history.
    this.client = new OpenAI({ apiKey: endpoint.apiKey, baseURL: endpoint.baseURL, maxRetries: 0, timeout: requestTimeoutMs() });
  }

  /** Model ids the endpoint offers (a cheap GET /models); for the preflight check. */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      for await (const m of this.client.models.list({ signal })) ids.push(m.id);
      return ids;
    } catch (err) {
      throw toTemporalFailure(err, { provider: this.spec.provider, model: this.spec.model, keyVariable: this.keyVariable });
    }
  }

  async chat(req: ProviderRequest): Promise<ProviderReply> {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
    if (req.system) messages.push({ role: 'system', content: req.system });
    messages.push(...req.messages);
    const isReasoningModel = this.spec.provider === 'openai' && /^(o\d|gpt-5)/.test(this.spec.model);
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: this.spec.model,
      messages,
      ...(isReasoningModel ? { max_completion_tokens: req.maxTokens } : { max_tokens: req.maxTokens }),
      ...(req.temperature !== undefined && !isReasoningModel ? { temperature: req.temperature } : {}),
      ...(req.reasoningEffort && isReasoningModel ? { reasoning_effort: req.reasoningEffort } : {}),
    };
    if (req.json) {
      // OpenAI has schema-constrained output; other endpoints vary, so they get plain JSON mode.
      body.response_format =
        this.spec.provider === 'openai'
          ? { type: 'json_schema', json_schema: { name: req.json.name, schema: req.json.schema, strict: false } }
          : { type: 'json_object' };
    }
    let completion: OpenAI.Chat.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(body, { signal: req.signal });
    } catch (err) {
      throw toTemporalFailure(err, { provider: this.spec.provider, model: this.spec.model, keyVariable: this.keyVariable });
    }
    const choice = completion.choices?.[0];
    return {
      text: choice?.message?.content ?? '',
      model: completion.model || this.spec.model,
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
      truncated: choice?.finish_reason === 'length',
    };
  }
}
