/** What every provider adapter implements: one chat call, no retries of its own. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ProviderRequest {
  system?: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  reasoningEffort?: 'low' | 'medium' | 'high';
  /** Ask for JSON matching this JSON Schema (native mode where the provider has one). */
  json?: { name: string; schema: Record<string, unknown> };
  signal?: AbortSignal;
  /** Told the output tokens so far, where the provider streams them (the embedded model does). */
  onProgress?: (outputTokens: number) => void;
}

export interface ProviderReply {
  text: string;
  /** Model id the provider reports having used. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** True when the reply stopped at maxTokens. */
  truncated: boolean;
}

export interface LlmProvider {
  chat(request: ProviderRequest): Promise<ProviderReply>;
}

/** Request timeout for hosted providers; Temporal's activity timeout is the outer bound. */
export function requestTimeoutMs(): number {
  const value = Number(process.env.LAB_LLM_TIMEOUT_MS ?? 10 * 60 * 1000);
  return Number.isFinite(value) && value > 0 ? value : 10 * 60 * 1000;
}
