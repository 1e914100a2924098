/**
 * Pure (no I/O): workflows use it to route LLM work to the provider's task queue.
 * Model spec strings: `openai:<model>`, `anthropic:<model>`, `openrouter:<vendor/model>`,
 * `openai-compatible:<model>@<baseURL>`, `embedded[:<path.gguf>]`, or `auto`.
 */
export type ProviderName = 'openai' | 'anthropic' | 'openrouter' | 'openai-compatible' | 'embedded';

export interface ModelSpec {
  provider: ProviderName;
  /** Model id as the provider knows it; for embedded, the GGUF path or '' for the default. */
  model: string;
  baseURL?: string;
  /** The spec as written, for display and search attributes. */
  spec: string;
}

export class ModelSpecError extends Error {}

export const PROVIDERS: ProviderName[] = ['openai', 'anthropic', 'openrouter', 'openai-compatible', 'embedded'];

export function parseModelSpec(spec: string): ModelSpec {
  const trimmed = spec.trim();
  if (trimmed === 'embedded') return { provider: 'embedded', model: '', spec: trimmed };
  const colon = trimmed.indexOf(':');
  const provider = colon > 0 ? trimmed.slice(0, colon) : '';
  const rest = colon > 0 ? trimmed.slice(colon + 1).trim() : '';
  if (!PROVIDERS.includes(provider as ProviderName)) {
    throw new ModelSpecError(
      `unknown model spec "${spec}": write provider:model, with provider one of ${PROVIDERS.join(', ')} (e.g. openai:gpt-4.1-mini, embedded)`,
    );
  }
  if (!rest) throw new ModelSpecError(`model spec "${spec}" names no model after "${provider}:"`);
  if (provider === 'openai-compatible') {
    const at = rest.lastIndexOf('@');
    const model = (at >= 0 ? rest.slice(0, at) : rest).trim();
    const baseURL = at >= 0 ? rest.slice(at + 1).trim() : undefined;
    if (!model) throw new ModelSpecError(`model spec "${spec}" names no model before "@" (write openai-compatible:<model>@<baseURL>)`);
    if (baseURL === '') throw new ModelSpecError(`model spec "${spec}" has no base URL after "@" (write openai-compatible:<model>@http://host:port/v1)`);
    if (baseURL !== undefined && !/^https?:\/\/[^/\s]+/.test(baseURL)) {
      throw new ModelSpecError(`model spec "${spec}": the base URL after @ must start with http:// or https://`);
    }
    return { provider, model, baseURL, spec: trimmed };
  }
  return { provider: provider as ProviderName, model: rest, spec: trimmed };
}

/** Default models when `auto` picks a provider from the keys that are set. */
const AUTO_ORDER: Array<[string, string]> = [
  ['ANTHROPIC_API_KEY', 'anthropic:claude-sonnet-4-5'],
  ['OPENAI_API_KEY', 'openai:gpt-4.1-mini'],
  ['OPENROUTER_API_KEY', 'openrouter:google/gemini-2.5-pro'],
];

/** The spec that lets a worker choose the model (see resolveAutoModel); the default of lab run, compete, bench and judge. */
/** Whether a spec names the embedded model (embedded, embedded:<file.gguf>); false for one that does not parse. */
export function isEmbeddedModel(spec: string): boolean {
  try {
    return parseModelSpec(spec).provider === 'embedded';
  } catch {
    return false;
  }
}

export const AUTO_MODEL = 'auto';

export function isAutoModel(spec: string | undefined): boolean {
  return spec?.trim() === AUTO_MODEL;
}

/**
 * Resolves `auto` (the default) to a concrete spec: `LAB_AUTO_MODEL` when set, else the first
 * provider with a key set, else the embedded model. Only the variable names are looked at here,
 * never their values. Research workers call it (activities/preflight/modelChoice.ts) with their own
 * environment; when the keys live only on the LLM pool (other hosts), LAB_AUTO_MODEL on the
 * research pool names the model those keys serve.
 */
export function resolveAutoModel(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.LAB_AUTO_MODEL?.trim();
  if (named && !isAutoModel(named)) {
    try {
      parseModelSpec(named);
    } catch (err) {
      throw new Error(`LAB_AUTO_MODEL: ${(err as Error).message}`);
    }
    return named;
  }
  for (const [variable, spec] of AUTO_ORDER) if (env[variable]) return spec;
  return 'embedded';
}
