/**
 * The optional `web_search` literature backend (the model's own web search, MLR-Bench's mode) against
 * a fake OpenAI Responses / Anthropic Messages server (tests/fakes/webSearchServer.ts) and the fake
 * arXiv / Semantic Scholar / OpenAlex servers: both providers yield records, its citations go
 * through the same check (a real arXiv id verifies, an invented one and a `Web:` link are flagged),
 * failures map onto Temporal's retries, and it is off unless listed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCitations } from '../activities/integrity/citations.js';
import { literatureSettings } from '../activities/literature/config.js';
import { LITERATURE_ERROR_TYPES, LiteratureError } from '../activities/literature/errors.js';
import { createBackends, createLiteratureActivities, paperRecordSchema, type PaperRecord } from '../activities/literature/index.js';
import { parseWebSearchAnswer, WebSearchBackend } from '../activities/literature/webSearch.js';
import { dedupeRecords } from '../activities/literature/dedupe.js';
import { makeRecord } from '../activities/literature/types.js';
import { FakeLiteratureServers, FAKE_CORPUS, refusedUrl } from './fakes/literatureServers.js';
import { FakeWebSearchServer } from './fakes/webSearchServer.js';
import { tempDir } from './helpers/temporal.js';

let servers: FakeLiteratureServers;
let web: FakeWebSearchServer;
let cacheDir: string;

beforeAll(async () => {
  servers = await new FakeLiteratureServers().start();
  web = await new FakeWebSearchServer().start();
});
afterAll(async () => {
  await servers?.stop();
  await web?.stop();
});
beforeEach(() => {
  servers.reset();
  web.reset();
  cacheDir = tempDir('literature-cache');
});

const REAL = FAKE_CORPUS.find((p) => p.arxivId === '2409.90001')!;

/** What a web-searching model might answer: a real paper (arXiv id), an invented one, a web-only page. */
const ANSWER = [
  { title: REAL.title, authors: ['Mira Castellanos', 'Joon-ho Adebayo'], year: 2024, url: 'https://arxiv.org/abs/2409.90001v2', arxivId: '2409.90001', doi: null },
  { title: 'Universal Calibration Laws for Every Shift', authors: 'A. Nobody, B. Nobody', year: '2025', url: 'https://arxiv.org/abs/2409.99999', arxivId: 'arXiv:2409.99999' },
  { title: 'Notes on Calibrating Classifiers in Production', authors: [{ name: 'C. Blogger' }], year: 2023, url: 'https://example.org/calibration-notes' },
  { title: 'Conformal Sets', authors: [], url: 'https://doi.org/10.5555/ICD.2023.42' },
  { nope: 'skipped: no title' },
];
const fenced = (v: unknown) => `Here are the papers I found:\n\n\`\`\`json\n${JSON.stringify(v, null, 2)}\n\`\`\`\n`;

function webEnv(provider: 'openai' | 'anthropic', extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return servers.env({
    LAB_LITERATURE_BACKENDS: 'arxiv,semantic_scholar,openalex,web_search',
    LAB_WEB_SEARCH_MODEL: provider === 'openai' ? 'openai:gpt-test-search' : 'anthropic:claude-test',
    LAB_WEB_SEARCH_MIN_INTERVAL_MS: '0',
    ...(provider === 'openai' ? { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: web.openAiUrl } : { ANTHROPIC_API_KEY: 'ak-test', ANTHROPIC_BASE_URL: web.anthropicUrl }),
    ...extra,
  });
}

function webBackend(provider: 'openai' | 'anthropic', extra: NodeJS.ProcessEnv = {}): WebSearchBackend {
  return new WebSearchBackend(literatureSettings(webEnv(provider, extra)).webSearch!);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function expectRecords(records: PaperRecord[]) {
  expect(records.map((r) => paperRecordSchema.parse(r))).toHaveLength(4);
  expect(records.map((r) => r.id)).toEqual(['arXiv:2409.90001', 'arXiv:2409.99999', 'Web:https://example.org/calibration-notes', 'DOI:10.5555/icd.2023.42']);
  expect(records[0]).toEqual({
    source: 'web_search',
    id: 'arXiv:2409.90001',
    title: REAL.title,
    authors: ['Mira Castellanos', 'Joon-ho Adebayo'],
    year: 2024,
    url: 'https://arxiv.org/abs/2409.90001v2',
    arxivId: '2409.90001',
  });
  expect(records[1]).toMatchObject({ authors: ['A. Nobody', 'B. Nobody'], year: 2025, arxivId: '2409.99999' });
  expect(records[2]).toMatchObject({ authors: ['C. Blogger'], url: 'https://example.org/calibration-notes' });
  expect(records[2].arxivId).toBeUndefined();
  expect(records.every((r) => r.abstract === undefined)).toBe(true);
}

describe('web_search backend', () => {
  it('OpenAI: the Responses API with the web_search tool; the fenced JSON answer becomes records', async () => {
    web.answer = fenced(ANSWER);
    const records = await webBackend('openai').search('calibration under distribution shift', 10);
    expectRecords(records);
    const [req] = web.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/responses' });
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.body.model).toBe('gpt-test-search');
    expect(req.body.tools).toEqual([{ type: 'web_search' }]);
    expect(req.body.input).toMatch(/calibration under distribution shift[\s\S]*up to 10 papers[\s\S]*ONLY with a JSON array/);
    // The limit caps the records.
    expect(await webBackend('openai').search('calibration', 2)).toHaveLength(2);
  });

  it('Anthropic: the Messages API with the web_search_20250305 server tool; the text after the search results is the answer', async () => {
    web.answer = JSON.stringify(ANSWER);
    const records = await webBackend('anthropic', { LAB_WEB_SEARCH_MAX_USES: '3' }).search('calibration under distribution shift', 10);
    expectRecords(records);
    const [req] = web.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/messages' });
    // The key as this SDK version sends it (x-api-key or a bearer token).
    expect(String(req.headers['x-api-key'] ?? req.headers.authorization)).toMatch(/ak-test$/);
    expect(req.body).toMatchObject({ model: 'claude-test', tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] });
    expect(req.body.messages[0]).toMatchObject({ role: 'user' });
  });

  it('answers are read leniently; an answer with no JSON array is an error', () => {
    expect(parseWebSearchAnswer('{"papers": [{"title": "A B C", "url": "https://x.org"}]}')).toHaveLength(1);
    expect(parseWebSearchAnswer('Sure! [{"title": "A B C"}] Hope this helps.')).toEqual([{ title: 'A B C', authors: [], year: undefined, url: undefined, arxivId: undefined, doi: undefined }]);
    expect(() => parseWebSearchAnswer('I could not find any papers.')).toThrow(LiteratureError);
  });

  it('search through the activity: deduplicated with the other backends, cached; its citations go through the same check', async () => {
    web.answer = fenced(ANSWER);
    const acts = createLiteratureActivities({ env: webEnv('openai'), cacheDir });
    const result = await acts.searchLiterature({ queries: ['Calibration under distribution shift'], perQuery: 5 });
    expect(result.backends.map((b) => [b.name, b.ok])).toEqual([
      ['arxiv', true],
      ['semantic_scholar', true],
      ['openalex', true],
      ['web_search', true],
    ]);
    // The real paper appears once (merged by arXiv id with arXiv's record); the web-only ones are kept.
    expect(result.records.filter((r) => r.arxivId === '2409.90001')).toHaveLength(1);
    expect(result.records.find((r) => r.arxivId === '2409.90001')!.abstract).toBe(REAL.abstract);
    expect(result.records.find((r) => r.id === 'arXiv:2409.99999')).toMatchObject({ source: 'web_search' });
    expect(result.records.find((r) => r.id === 'Web:https://example.org/calibration-notes')).toMatchObject({ source: 'web_search' });
    // Asked again (a retry or a resume): from the cache.
    await acts.searchLiterature({ queries: ['Calibration under distribution shift'], perQuery: 5 });
    expect(web.requests.filter((r) => r.path === '/v1/responses')).toHaveLength(1);

    // A related-work section citing what web search found, as the stage writes it.
    const webRecords = ['arXiv:2409.90001', 'arXiv:2409.99999', 'Web:https://example.org/calibration-notes'].map((id) => result.records.find((r) => r.id === id)!);
    const doc = [
      '# Related work',
      '',
      'Benchmarks [1], a sweeping claim [2] and practitioners\' notes [3].',
      '',
      '## References',
      '',
      ...webRecords.map((r, i) => `${i + 1}. ${r.authors.join(', ')} (${r.year}). *${r.title}*. ${r.id.startsWith('Web:') ? r.url : r.id}`),
      '',
    ].join('\n');
    const report = await acts.resolveCitations({ citations: parseCitations(doc, webRecords) });
    expect(report.verifiedIds).toEqual(['arXiv:2409.90001']);
    expect(report.flagged).toEqual([
      expect.objectContaining({ id: 'arXiv:2409.99999', reason: 'not_found', detail: 'no such paper on arXiv' }),
      expect.objectContaining({ reason: 'no_id', title: expect.stringContaining('Notes on Calibrating Classifiers in Production') }),
    ]);
    expect(report).toMatchObject({ checked: 3, verified: 1 });
    // The check never asked the web-search model.
    expect(web.requests.filter((r) => r.path === '/v1/responses')).toHaveLength(1);
  });

  it('429 with Retry-After fails the activity for Temporal to retry after it; 5xx retries; 401 does not; refused is offline', async () => {
    const only = (provider: 'openai' | 'anthropic', extra: NodeJS.ProcessEnv = {}) =>
      createLiteratureActivities({ env: webEnv(provider, { LAB_LITERATURE_BACKENDS: 'web_search', ...extra }), cacheDir: tempDir('literature-cache') });
    web.answer = JSON.stringify(ANSWER);

    web.fail({ status: 429, headers: { 'retry-after': '7' } });
    const limited = await failureOf(only('openai').searchLiterature({ queries: ['calibration'], perQuery: 5 }));
    expect(limited).toMatchObject({ type: LITERATURE_ERROR_TYPES.rateLimited, nonRetryable: false, nextRetryDelay: 7000 });
    expect(limited.message).toMatch(/^Web search: rate limited \(429\), retry after 7s/);

    web.fail({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    const overloaded = await failureOf(only('anthropic').searchLiterature({ queries: ['calibration'], perQuery: 5 }));
    expect(overloaded).toMatchObject({ type: LITERATURE_ERROR_TYPES.serverError, nonRetryable: false });
    expect(overloaded.message).toMatch(/server error 529/);

    web.fail({ status: 401, body: { error: { message: 'Incorrect API key provided' } } });
    const refusedKey = await only('openai').searchLiterature({ queries: ['calibration'], perQuery: 5 });
    expect(refusedKey.backends).toEqual([
      expect.objectContaining({ name: 'web_search', ok: false, error: expect.stringMatching(/refused the request \(401\).*check OPENAI_API_KEY/) }),
    ]);

    const offline = await only('anthropic', { ANTHROPIC_BASE_URL: await refusedUrl() }).searchLiterature({ queries: ['calibration'], perQuery: 5 });
    expect(offline.backends).toEqual([expect.objectContaining({ name: 'web_search', ok: false, error: expect.stringMatching(/connection refused/) })]);
    expect(offline.records).toEqual([]);
  });

  it('preflight lists the models (no search); it is never enabled by default; enabling it needs LAB_WEB_SEARCH_MODEL and its key', async () => {
    const acts = createLiteratureActivities({ env: webEnv('anthropic', { LAB_LITERATURE_BACKENDS: 'web_search' }), cacheDir });
    expect(await acts.literaturePreflight()).toEqual([]);
    expect(web.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
    web.fail({ status: 401 });
    expect(await acts.literaturePreflight()).toEqual([expect.stringMatching(/^Web search \(anthropic:claude-test at http:\/\/127\.0\.0\.1:\d+\) did not answer: refused the request \(401\)/)]);

    expect(literatureSettings({}).backends).toEqual(['arxiv', 'semantic_scholar', 'openalex']);
    expect(literatureSettings({}).webSearch).toBeUndefined();
    expect(createBackends(servers.env({ LAB_WEB_SEARCH_MODEL: 'openai:gpt-test', OPENAI_API_KEY: 'k' })).map((b) => b.name)).not.toContain('web_search');

    expect(() => literatureSettings({ LAB_LITERATURE_BACKENDS: 'arxiv,web_search' })).toThrow(/web_search literature backend needs LAB_WEB_SEARCH_MODEL/);
    expect(() => literatureSettings({ LAB_LITERATURE_BACKENDS: 'web_search', LAB_WEB_SEARCH_MODEL: 'gpt-4.1' })).toThrow(/must be openai:<model> or anthropic:<model>/);
    expect(() => literatureSettings({ LAB_LITERATURE_BACKENDS: 'web_search', LAB_WEB_SEARCH_MODEL: 'anthropic:claude-x' })).toThrow(/needs ANTHROPIC_API_KEY/);
    const config = await failureOf(createLiteratureActivities({ env: { LAB_LITERATURE_BACKENDS: 'web_search' }, cacheDir }).searchLiterature({ queries: ['x'], perQuery: 1 }));
    expect(config).toMatchObject({ type: LITERATURE_ERROR_TYPES.config, nonRetryable: true });
    expect(await createLiteratureActivities({ env: { LAB_LITERATURE_BACKENDS: 'web_search' }, cacheDir }).literaturePreflight()).toEqual([
      expect.stringMatching(/LAB_WEB_SEARCH_MODEL/),
    ]);
  });
});

describe('deduplication of web-only records', () => {
  it('two web results with the same title keep their Web: id when merged', () => {
    const a = makeRecord({ source: 'web_search', title: 'A Paper Only the Web Knows', authors: ['A. Author'], url: 'https://example.org/a', fallbackId: 'Web:https://example.org/a' })!;
    const b = makeRecord({ source: 'web_search', title: 'A paper only the web knows.', authors: [], url: 'https://example.org/b', fallbackId: 'Web:https://example.org/b' })!;
    const merged = dedupeRecords([a, b]);
    expect(merged).toHaveLength(1);
    expect(merged[0].id).toBe('Web:https://example.org/a');
  });
});
