/**
 * The literature backends' settings, read from the worker's environment (keys included: they
 * never travel through workflow input or history). Every variable is listed in docs/literature.md.
 */
import { BACKEND_LABELS, BACKEND_NAMES, type BackendName } from './types.js';
import { httpUrl } from '../../common/httpUrl.js';

export interface BackendSettings {
  name: BackendName;
  /** arXiv: the query endpoint; Semantic Scholar: the Graph API root; OpenAlex: the API root. */
  baseUrl: string;
  minIntervalMs: number;
  timeoutMs: number;
}

export interface LiteratureSettings {
  backends: BackendName[];
  arxiv: BackendSettings;
  semanticScholar: BackendSettings & { apiKey?: string };
  openAlex: BackendSettings & { mailto?: string; apiKey?: string };
  /** Only when `web_search` is in LAB_LITERATURE_BACKENDS (it never is by default). */
  webSearch?: WebSearchSettings;
}

export type WebSearchProvider = 'openai' | 'anthropic';

/** The model's own web search (OpenAI Responses `web_search` tool, Anthropic `web_search_20250305`). */
export interface WebSearchSettings extends BackendSettings {
  provider: WebSearchProvider;
  model: string;
  apiKey: string;
  /** Anthropic: how many searches one request may make. */
  maxUses: number;
}

export const DEFAULT_BACKENDS = 'arxiv,semantic_scholar,openalex';

export const LITERATURE_DEFAULTS = {
  arxivUrl: 'https://export.arxiv.org/api/query',
  semanticScholarUrl: 'https://api.semanticscholar.org/graph/v1',
  openAlexUrl: 'https://api.openalex.org',
  /** arXiv's terms: no more than one request every three seconds. */
  arxivMinIntervalMs: 3000,
  /** Semantic Scholar: 1 request per second (the rate of an introductory key; the keyless pool is shared). */
  semanticScholarMinIntervalMs: 1000,
  /** OpenAlex: about 10 requests per second in the polite pool. */
  openAlexMinIntervalMs: 100,
  openAiUrl: 'https://api.openai.com/v1',
  anthropicUrl: 'https://api.anthropic.com',
  /** Web search: one model request per second per worker (each one is paid). */
  webSearchMinIntervalMs: 1000,
  /** A web-searching model takes tens of seconds per answer. */
  webSearchTimeoutMs: 180_000,
  webSearchMaxUses: 5,
  timeoutMs: 30_000,
} as const;

export class LiteratureConfigError extends Error {
  override readonly name = 'LiteratureConfigError';
}

function nonNegative(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new LiteratureConfigError(`${name} must be a number of milliseconds >= 0, got "${raw}"`);
  return value;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = (env[name] || fallback).replace(/\/+$/, '');
  if (!httpUrl(raw)) throw new LiteratureConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  return raw;
}

/**
 * `LAB_WEB_SEARCH_MODEL` (`openai:<model>` | `anthropic:<model>`) and its provider's key, required
 * only when the `web_search` backend is enabled.
 */
export function webSearchSettings(env: NodeJS.ProcessEnv): WebSearchSettings {
  const raw = (env.LAB_WEB_SEARCH_MODEL ?? '').trim();
  if (!raw) {
    throw new LiteratureConfigError(
      'the web_search literature backend needs LAB_WEB_SEARCH_MODEL (openai:<model> or anthropic:<model>, e.g. openai:gpt-4.1-mini); or drop web_search from LAB_LITERATURE_BACKENDS',
    );
  }
  const m = /^(openai|anthropic):(.+)$/i.exec(raw);
  if (!m || !m[2].trim()) {
    throw new LiteratureConfigError(`LAB_WEB_SEARCH_MODEL must be openai:<model> or anthropic:<model>, got "${raw}"`);
  }
  const provider = m[1].toLowerCase() as WebSearchProvider;
  const keyVariable = provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY';
  const apiKey = env[keyVariable];
  if (!apiKey) throw new LiteratureConfigError(`the web_search literature backend (LAB_WEB_SEARCH_MODEL=${raw}) needs ${keyVariable} set in the worker's environment`);
  const maxUses = Number(env.LAB_WEB_SEARCH_MAX_USES || LITERATURE_DEFAULTS.webSearchMaxUses);
  if (!Number.isInteger(maxUses) || maxUses < 1) throw new LiteratureConfigError(`LAB_WEB_SEARCH_MAX_USES must be an integer >= 1, got "${env.LAB_WEB_SEARCH_MAX_USES}"`);
  return {
    name: 'web_search',
    provider,
    model: m[2].trim(),
    apiKey,
    baseUrl:
      provider === 'openai'
        ? url(env, 'OPENAI_BASE_URL', LITERATURE_DEFAULTS.openAiUrl)
        : url(env, 'ANTHROPIC_BASE_URL', LITERATURE_DEFAULTS.anthropicUrl),
    minIntervalMs: nonNegative(env, 'LAB_WEB_SEARCH_MIN_INTERVAL_MS', LITERATURE_DEFAULTS.webSearchMinIntervalMs),
    timeoutMs: nonNegative(env, 'LAB_WEB_SEARCH_TIMEOUT_MS', LITERATURE_DEFAULTS.webSearchTimeoutMs) || LITERATURE_DEFAULTS.webSearchTimeoutMs,
    maxUses,
  };
}

/**
 * Parses `LAB_LITERATURE_BACKENDS` (`arxiv,semantic_scholar,openalex`; `none` or empty-string turns
 * search off; `web_search` — the model's own web search — only when listed).
 */
export function parseBackends(list: string): BackendName[] {
  const names = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const out: BackendName[] = [];
  for (const n of names) {
    const name = n === 's2' || n === 'semanticscholar' ? 'semantic_scholar' : n === 'web' || n === 'websearch' || n === 'web-search' ? 'web_search' : n;
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new LiteratureConfigError(`LAB_LITERATURE_BACKENDS: unknown backend "${n}" (known: ${BACKEND_NAMES.join(', ')}, or none)`);
    }
    if (!out.includes(name as BackendName)) out.push(name as BackendName);
  }
  return out;
}

export function literatureSettings(env: NodeJS.ProcessEnv = process.env): LiteratureSettings {
  const timeoutMs = nonNegative(env, 'LAB_LITERATURE_TIMEOUT_MS', LITERATURE_DEFAULTS.timeoutMs) || LITERATURE_DEFAULTS.timeoutMs;
  const backends = parseBackends(env.LAB_LITERATURE_BACKENDS ?? DEFAULT_BACKENDS);
  return {
    backends,
    ...(backends.includes('web_search') ? { webSearch: webSearchSettings(env) } : {}),
    arxiv: {
      name: 'arxiv',
      baseUrl: url(env, 'LAB_ARXIV_URL', LITERATURE_DEFAULTS.arxivUrl),
      minIntervalMs: nonNegative(env, 'LAB_ARXIV_MIN_INTERVAL_MS', LITERATURE_DEFAULTS.arxivMinIntervalMs),
      timeoutMs,
    },
    semanticScholar: {
      name: 'semantic_scholar',
      baseUrl: url(env, 'LAB_SEMANTIC_SCHOLAR_URL', LITERATURE_DEFAULTS.semanticScholarUrl),
      minIntervalMs: nonNegative(env, 'LAB_SEMANTIC_SCHOLAR_MIN_INTERVAL_MS', LITERATURE_DEFAULTS.semanticScholarMinIntervalMs),
      timeoutMs,
      apiKey: env.SEMANTIC_SCHOLAR_API_KEY || undefined,
    },
    openAlex: {
      name: 'openalex',
      baseUrl: url(env, 'LAB_OPENALEX_URL', LITERATURE_DEFAULTS.openAlexUrl),
      minIntervalMs: nonNegative(env, 'LAB_OPENALEX_MIN_INTERVAL_MS', LITERATURE_DEFAULTS.openAlexMinIntervalMs),
      timeoutMs,
      mailto: env.LAB_OPENALEX_MAILTO || undefined,
      apiKey: env.OPENALEX_API_KEY || undefined,
    },
  };
}

export function backendLabel(name: BackendName): string {
  return BACKEND_LABELS[name];
}
