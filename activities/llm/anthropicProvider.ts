/** Anthropic through the official SDK; structured output uses a forced tool call, Anthropic's native way to get JSON. */
import Anthropic from '@anthropic-ai/sdk';
import { configError, toTemporalFailure } from './errors.js';
import type { ModelSpec } from '../../common/modelSpec.js';
import { requestTimeoutMs, type LlmProvider, type ProviderReply, type ProviderRequest } from './provider.js';

export class AnthropicProvider implements LlmProvider {
  private readonly client: Anthropic;

  constructor(private readonly spec: ModelSpec, env: NodeJS.ProcessEnv = process.env) {
    const apiKey = env.ANTHROPIC_API_KEY;
    if (!apiKey) throw configError(`model ${spec.spec} needs ANTHROPIC_API_KEY set in the worker's environment`);
    this.client = new Anthropic({ apiKey, baseURL: env.ANTHROPIC_BASE_URL || undefined, maxRetries: 0, timeout: requestTimeoutMs() });
  }

  /** Model ids the API offers (a cheap GET /v1/models); for the preflight check. */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      for await (const m of this.client.models.list({}, { signal })) ids.push(m.id);
      return ids;
    } catch (err) {
      throw toTemporalFailure(err, { provider: 'anthropic', model: this.spec.model, keyVariable: 'ANTHROPIC_API_KEY' });
    }
  }

  async chat(req: ProviderRequest): Promise<ProviderReply> {
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: this.spec.model,
      max_tokens: req.maxTokens,
      messages: req.messages,
      ...(req.system ? { system: req.system } : {}),
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    };
    if (req.json) {
      body.tools = [{ name: req.json.name, description: 'Return the answer as this JSON object.', input_schema: req.json.schema as Anthropic.Tool.InputSchema }];
      body.tool_choice = { type: 'tool', name: req.json.name };
    }
    let message: Anthropic.Message;
    try {
      message = await this.client.messages.create(body, { signal: req.signal });
    } catch (err) {
      throw toTemporalFailure(err, { provider: 'anthropic', model: this.spec.model, keyVariable: 'ANTHROPIC_API_KEY' });
    }
    let text = '';
    for (const block of message.content ?? []) {
      if (block.type === 'text') text += block.text;
      else if (block.type === 'tool_use' && req.json) text = JSON.stringify(block.input);
    }
    return {
      text,
      model: message.model || this.spec.model,
      inputTokens: message.usage?.input_tokens ?? 0,
      outputTokens: message.usage?.output_tokens ?? 0,
      truncated: message.stop_reason === 'max_tokens',
    };
  }
}
