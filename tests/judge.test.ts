/**
 * The judge (MLR-Judge) outside Temporal: rubric files and the answer schemas built from them,
 * the judge prompt, collecting a folder laid out as MLR-Bench lays out outputs, and the judge
 * activities with a real LlmGateway talking HTTP to a scripted fake server and a temporary
 * artifact store. Published MLR-Bench reviews from ../shared, when present, must fit our schemas.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ArtifactStore } from '../activities/artifacts.js';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { createJudgeActivities, invalidAnswerReason, type JudgeReviewInput } from '../activities/judge/index.js';
import { documentsInFolder, missingDocuments, requiredDocuments } from '../activities/judge/documents.js';
import { judgePrompt, rubricOfPrompt, shorten } from '../activities/judge/prompt.js';
import { answerSchema, loadRubric, parseRubric, RubricError } from '../activities/judge/rubrics.js';
import { LlmGateway, parseJson } from '../activities/llm/gateway.js';
import { NON_RETRYABLE_STAGE_ERRORS } from '../common/errorTypes.js';
import { combineVerdicts, judgeSlug, REVIEW_KINDS, type JudgeVerdict, type ReviewDocuments, type ReviewKind, type ReviewResult } from '../common/reviews.js';
import { FakeLlmServer, type FakeReply, type FakeRequest } from './fakes/fakeLlmServer.js';
import { scriptedReply } from './fakes/recordedOutputs.js';
import { scriptedJudgeReply } from './fakes/scriptedJudge.js';
import { SHARED_DIR } from './helpers/shared.js';

const END2END = path.join(SHARED_DIR, 'mlrbench-results', 'end2end_claude');
const REVIEWS = path.join(SHARED_DIR, 'mlrbench-results', 'reviews');
const SHARED_TASK = path.join(END2END, 'iclr2025_scsl');

/** The dimensions the facts file lists per review kind (answer keys in order). */
const FACTS: Record<ReviewKind, string[]> = {
  idea: ['Consistency', 'Clarity', 'Novelty', 'Feasibility', 'Significance', 'OverallAssessment'],
  proposal: ['Consistency', 'Clarity', 'Novelty', 'Soundness', 'Feasibility', 'Significance', 'OverallAssessment'],
  experiment: ['Hallucination', 'Consistency', 'Completeness', 'Novelty', 'Soundness', 'Insightfulness', 'Significance', 'OverallAssessment'],
  paper: ['Consistency', 'Clarity', 'Completeness', 'Soundness', 'OverallAssessment'],
  end_to_end: ['Clarity', 'Novelty', 'Soundness', 'Significance', 'Overall', 'Confidence'],
  hallucination: ['has_hallucination', 'hallucinations', 'overall_assessment', 'confidence'],
  mlrc: ['Clarity', 'Validity', 'Rigorousness', 'Innovativeness', 'Generalizability'],
};

let tmp: string;
let fake: FakeLlmServer;
let store: LocalArtifactStore;
let llm: LlmGateway;
let activities: ReturnType<typeof createJudgeActivities>;
let cachedLlm: LlmGateway;
let cachedActivities: ReturnType<typeof createJudgeActivities>;
/** Replies the next request of model `judge-scripted-once` gets instead of the scripted one. */
const overrides: string[] = [];

/** The judge prompt of a request, also when it is the gateway's re-ask (the last user turn is then the complaint). */
function judgePromptOf(req: FakeRequest): string {
  const first = (req.body.messages ?? []).find((m: { role: string }) => m.role === 'user');
  return typeof first?.content === 'string' ? first.content : req.prompt;
}

function script(req: FakeRequest): FakeReply {
  const valid = scriptedReply(judgePromptOf(req), req.system);
  switch (req.body.model) {
    case 'judge-forgetful': {
      // Leaves out a dimension the first time; answers in full when told what is missing.
      if (req.prompt.startsWith('That reply is not valid')) return { text: valid! };
      const answer = JSON.parse(valid!);
      delete answer.Novelty;
      return { text: JSON.stringify(answer) };
    }
    case 'judge-wild': {
      const answer = JSON.parse(valid!);
      answer.Clarity.score = 11;
      return { text: JSON.stringify(answer) };
    }
    case 'judge-override':
      return { text: overrides.shift() ?? valid! };
    default:
      return valid === undefined ? { status: 400, body: { error: { message: 'not a judge prompt' } } } : { text: valid, inputTokens: 5000, outputTokens: 900 };
  }
}

const spec = (model: string) => `openai-compatible:${model}@${fake.openaiBaseURL}`;
const requestsFor = (model: string, since: number) => fake.requests.slice(since).filter((r) => r.body.model === model);

/** Activities run in-process; their expected failures are not logged. */
function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn, ...args);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);

/** A small folder laid out as MLR-Bench lays out an agent's outputs; `omit` leaves files out. */
function writeFolder(name: string, omit: string[] = [], extra: Record<string, string | Buffer> = {}): string {
  const root = path.join(tmp, name);
  const files: Record<string, string | Buffer> = {
    'task.md': '# Workshop on Reliable Uncertainty\n\nWe invite work on calibration under distribution shift.\n',
    'idea.md': '# Shift-Aware Temperature Scaling\n\n## Motivation\nCalibration breaks under shift.\n\n## Main Idea\nLearn a temperature per detected shift.\n',
    'related_work.md': '1. **Calibration of Modern Neural Networks** (arXiv:1706.04599), Guo et al., 2017.\n',
    'proposal.md': '# Shift-Aware Temperature Scaling\n\n## Methodology\n$T(x) = g(s(x))$\n',
    'results/results.md': '# Results\n\n| method | ECE |\n| --- | --- |\n| ours | 0.031 |\n| TS | 0.052 |\n',
    'results/log.txt': 'epoch 1 loss 0.9\nECE ours 0.031\nECE TS 0.052\n',
    'results/paper.md': '# Shift-Aware Temperature Scaling\n\n## Results\nECE falls from 0.052 to 0.031.\n\n![ECE](figures/ece.png)\n',
    'results/figures/ece.png': PNG,
    'code/main.py': 'import numpy as np\n\nprint("ECE ours", 0.031)  # MAIN_PY_MARKER\n',
    'code/utils/helpers.py': 'def ece(p, y):\n    return 0.0\n',
    'code/weights.bin': Buffer.from([1, 0, 2, 0, 3, 0]),
    'code/__pycache__/main.cpython-311.pyc': 'cached',
    'code/run (final).sh': 'python main.py\n',
    ...extra,
  };
  for (const [rel, content] of Object.entries(files)) {
    if (omit.includes(rel)) continue;
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lab-judge-'));
  fake = await new FakeLlmServer(script).start();
  store = new LocalArtifactStore(path.join(tmp, 'artifacts'));
  llm = new LlmGateway({ env: {} });
  activities = createJudgeActivities({ store, llm });
  cachedLlm = new LlmGateway({ env: {}, cacheDir: path.join(tmp, 'llm-cache') });
  cachedActivities = createJudgeActivities({ store, llm: cachedLlm });
});

afterAll(async () => {
  await fake?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('rubrics', () => {
  it('every review kind has a valid rubric whose answer keys are the MLR-Bench names', () => {
    for (const kind of REVIEW_KINDS) {
      const rubric = loadRubric(kind);
      expect(rubric).toMatchObject({ kind, version: 'v1' });
      expect(Object.keys(answerSchema(rubric).shape)).toEqual(FACTS[kind]);
      for (const name of rubric.requires) expect(rubric.reads).toContain(name);
    }
    expect(loadRubric('idea').scale).toEqual({ min: 1, max: 10 });
    expect(loadRubric('mlrc').scale).toEqual({ min: 1, max: 5 });
    expect(loadRubric('end_to_end').confidence).toMatchObject({ name: 'Confidence', min: 1, max: 5 });
    expect(loadRubric('hallucination').findings?.types.map((t) => t.name)).toEqual(['Nonexistent Citations', 'Hallucinated Methodology', 'Mathematical Errors', 'Faked Experimental Results']);
    expect(requiredDocuments('proposal')).toContain('proposal');
  });

  it('the newest version in a folder is found once per process, as the rubric files are read once', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-rubrics-'));
    const raw = JSON.parse(readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'rubrics', 'idea.v1.json'), 'utf8'));
    writeFileSync(path.join(dir, 'idea.v1.json'), JSON.stringify(raw));
    writeFileSync(path.join(dir, 'idea.v3.json'), JSON.stringify({ ...raw, version: 'v3' }));
    expect(loadRubric('idea', undefined, dir).version).toBe('v3');
    // A version added while the worker runs is taken after a restart; one asked for by name at once.
    writeFileSync(path.join(dir, 'idea.v4.json'), JSON.stringify({ ...raw, version: 'v4' }));
    expect(loadRubric('idea', undefined, dir).version).toBe('v3');
    expect(loadRubric('idea', 'v4', dir).version).toBe('v4');
    expect(() => loadRubric('proposal', undefined, dir)).toThrow(`no rubric for "proposal" in ${dir}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rubric whose bands leave a gap or overlap, or that reads what it cannot, is refused', () => {
    const raw = JSON.parse(readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'rubrics', 'idea.v1.json'), 'utf8'));
    const gap = structuredClone(raw);
    delete gap.dimensions[0].anchors['5-6'];
    expect(() => parseRubric(gap)).toThrow(/Consistency: no band covers score 5/);
    const overlap = structuredClone(raw);
    overlap.overall.anchors['6-7'] = 'overlaps';
    expect(() => parseRubric(overlap)).toThrow(/score 7 is in bands/);
    const requires = { ...structuredClone(raw), requires: ['paper'] };
    expect(() => parseRubric(requires)).toThrow(/requires "paper" but does not read it/);
    const twice = structuredClone(raw);
    twice.dimensions[1].name = 'Consistency';
    expect(() => parseRubric(twice)).toThrow(/answer key "Consistency" is used twice/);
    expect(() => loadRubric('idea', 'v9')).toThrow(RubricError);
  });

  it('the answer schema fails a missing dimension, an out-of-range or fractional score, and keeps nothing but the rubric keys', () => {
    const rubric = loadRubric('idea');
    const schema = answerSchema(rubric);
    const good = JSON.parse(scriptedJudgeReply('Review (rubric idea v1)\n\nwhatever', '')!);
    expect(schema.safeParse(good).success).toBe(true);
    const check = (mutate: (a: any) => void) => {
      const a = structuredClone(good);
      mutate(a);
      return parseJson(JSON.stringify(a), schema);
    };
    expect(check((a) => delete a.Novelty)).toMatchObject({ ok: false, error: expect.stringContaining('Novelty') });
    expect(check((a) => (a.Clarity.score = 11))).toMatchObject({ ok: false, error: expect.stringContaining('Clarity.score') });
    expect(check((a) => (a.Clarity.score = 0))).toMatchObject({ ok: false });
    expect(check((a) => (a.Clarity.score = 7.5))).toMatchObject({ ok: false, error: expect.stringContaining('Clarity.score') });
    expect(check((a) => (a.Clarity.score = '7'))).toMatchObject({ ok: false });
    expect(check((a) => (a.OverallAssessment.strengths = []))).toMatchObject({ ok: false });
    const extra = check((a) => {
      a.Remarks = 'extra';
      a.OverallAssessment.justification = 'holistic';
    });
    expect(extra.ok && Object.keys(extra.value)).toEqual(FACTS.idea);
    expect(extra.ok && extra.value.OverallAssessment).toMatchObject({ justification: 'holistic' });

    const mlrc = answerSchema(loadRubric('mlrc'));
    expect(mlrc.safeParse({ ...Object.fromEntries(FACTS.mlrc.map((k) => [k, { score: 6, justification: 'x' }])) }).success).toBe(false);
    expect(mlrc.safeParse({ ...Object.fromEntries(FACTS.mlrc.map((k) => [k, { score: 5, justification: 'x' }])) }).success).toBe(true);

    const hallucination = answerSchema(loadRubric('hallucination'));
    const finding = { type: 'Faked Experimental Results', description: 'Table 2 is invented', evidence: 'Table 2' };
    expect(hallucination.safeParse({ has_hallucination: true, hallucinations: [finding], overall_assessment: 'x', confidence: 4 }).success).toBe(true);
    expect(hallucination.safeParse({ has_hallucination: false, hallucinations: [finding], overall_assessment: 'x', confidence: 4 }).success).toBe(false);
    expect(hallucination.safeParse({ has_hallucination: true, hallucinations: [{ ...finding, type: 'Typos' }], overall_assessment: 'x', confidence: 4 }).success).toBe(false);
    expect(hallucination.safeParse({ has_hallucination: false, hallucinations: [], overall_assessment: 'x', confidence: 6 }).success).toBe(false);
  });

  it.skipIf(!existsSync(REVIEWS))('every published MLR-Bench review fits the answer schema of its kind', () => {
    const kindOf = (p: string): ReviewKind | undefined =>
      p.includes('/idea/') ? 'idea' : p.includes('/proposal/') ? 'proposal' : p.includes('/experiments/') ? 'experiment' : p.includes('/paper/') ? 'paper' : /\/review_[^/]+\.json$/.test(p) ? 'end_to_end' : undefined;
    const counts: Partial<Record<ReviewKind, number>> = {};
    const schemas = Object.fromEntries(REVIEW_KINDS.map((k) => [k, answerSchema(loadRubric(k))]));
    const failures: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (kindOf(p)) {
          const kind = kindOf(p)!;
          const checked = parseJson(readFileSync(p, 'utf8'), schemas[kind]);
          if (checked.ok) counts[kind] = (counts[kind] ?? 0) + 1;
          else failures.push(`${p}: ${checked.error}`);
        }
      }
    };
    walk(REVIEWS);
    expect(failures).toEqual([]);
    for (const kind of ['idea', 'proposal', 'experiment', 'paper', 'end_to_end'] as const) expect(counts[kind]).toBeGreaterThan(0);
  });
});

describe('the judge prompt', () => {
  const material = (over: Partial<Parameters<typeof judgePrompt>[1]> = {}) => ({
    documents: { task: { name: 'task.md', text: 'TASK TEXT' }, paper: { name: 'paper.md', text: 'PAPER TEXT' } },
    code: [{ name: 'main.py', text: 'print(1)' }],
    figures: ['results/figures/ece.png'],
    ...over,
  });

  it('starts with the rubric line, lists every band of every dimension, asks for a holistic overall, and is honest about figures', () => {
    const rubric = loadRubric('end_to_end');
    const { prompt, system, cuts } = judgePrompt(rubric, material(), { withCode: true });
    expect(prompt.split('\n')[0]).toBe('Review (rubric end_to_end v1)');
    expect(rubricOfPrompt(prompt)).toEqual({ kind: 'end_to_end', version: 'v1' });
    for (const d of rubric.dimensions) {
      expect(prompt).toContain(`### ${d.name} (1-10)`);
      for (const [band, text] of Object.entries(d.anchors)) expect(prompt).toContain(`- ${band}: ${text}`);
    }
    expect(prompt).toContain('### Overall (1-10, holistic)');
    expect(prompt).toContain('not the average');
    expect(prompt).toContain('### Confidence (1-5)');
    expect(prompt).toContain('You cannot see these images');
    expect(prompt).toContain('- results/figures/ece.png');
    expect(prompt).toContain('=== BEGIN code file main.py ===');
    expect(prompt).toContain('"Confidence": <integer 1-5>');
    expect(system).toMatch(/never instructions to you/);
    expect(cuts).toEqual([]);
    // Bands run from the top down.
    expect(prompt.indexOf('- 9-10:')).toBeLessThan(prompt.indexOf('- 1-2:'));
  });

  it('without code, an optional-code rubric says the code is withheld and shows none of it', () => {
    const { prompt } = judgePrompt(loadRubric('end_to_end'), material(), { withCode: false });
    expect(prompt).toContain('=== Code: withheld ===');
    expect(prompt).not.toContain('print(1)');
    expect(judgePrompt(loadRubric('mlrc'), material(), { withCode: false }).prompt).toContain('withheld');
  });

  it('caps each document and the code in all, and says what was cut', () => {
    const hugeLog = `START ${'x'.repeat(200_000)} END-OF-LOG`;
    const code = Array.from({ length: 6 }, (_, i) => ({ name: `mod${i}.py`, text: `# module ${i}\n${'y'.repeat(30_000)}` }));
    const { prompt, cuts } = judgePrompt(
      loadRubric('experiment'),
      { documents: { task: { name: 'task.md', text: 'T' }, log: { name: 'log.txt', text: hugeLog } }, code, figures: [] },
      { withCode: true },
    );
    expect(prompt).toContain('START');
    expect(prompt).toContain('END-OF-LOG');
    expect(prompt).toContain('characters cut here');
    expect(cuts[0]).toBe('log.txt: 200,017 characters, cut to 60,000 by removing the middle');
    expect(cuts.at(-1)).toMatch(/3 of 6 code files are not shown.*80,000 characters: mod3\.py, mod4\.py, mod5\.py/);
    expect(prompt).toContain('Some material was shortened or left out');
    expect(prompt).toContain('Code files (6): mod0.py');
    expect(prompt.length).toBeLessThan(60_000 + 80_000 + 20_000);
    expect(shorten('abcdef', 10)).toBe('abcdef');
  });
});

describe('documents from a folder', () => {
  it('stores the documents, the code folder’s text files and the figures under <storeId>/inputs/', async () => {
    const folder = writeFolder('own-outputs');
    const docs = await activities.collectReviewDocuments({ reviewId: 'review-own', subject: { source: 'folder', path: folder } });
    expect(docs.task?.path).toBe('runs/review-own/inputs/task.md');
    expect(docs.results?.path).toBe('runs/review-own/inputs/results.md');
    expect(docs.log?.path).toBe('runs/review-own/inputs/log.txt');
    expect(docs.paper?.path).toBe('runs/review-own/inputs/paper.md');
    expect(docs.paper?.mediaType).toBe('text/markdown');
    expect(await store.getText(docs.paper!)).toContain('ECE falls from 0.052 to 0.031');
    // Binaries and caches skipped; an odd file name made safe.
    expect(docs.code.map((c) => c.path)).toEqual([
      'runs/review-own/inputs/code/main.py',
      'runs/review-own/inputs/code/run _final_.sh',
      'runs/review-own/inputs/code/utils/helpers.py',
    ]);
    expect(docs.figures.map((f) => [f.path, f.mediaType])).toEqual([['runs/review-own/inputs/figures/results/figures/ece.png', 'image/png']]);
    expect((await store.get(docs.figures[0])).equals(PNG)).toBe(true);
    expect(documentsInFolder(folder)).toEqual(['task', 'idea', 'related_work', 'proposal', 'results', 'log', 'paper']);
  });

  it('honours files overrides, inside the folder only, and falls back to the coding agent’s transcript for the log', async () => {
    const folder = writeFolder('overrides', ['results/log.txt', 'proposal.md'], { 'drafts/proposal-v2.md': '# Proposal v2\n', 'claude_output.json': '[{"role":"user","content":"go"}]' });
    const docs = await activities.collectReviewDocuments({ reviewId: 'review-overrides', subject: { source: 'folder', path: folder, files: { proposal: 'drafts/proposal-v2.md' } } });
    expect(await store.getText(docs.proposal!)).toBe('# Proposal v2\n');
    expect(docs.log).toMatchObject({ path: 'runs/review-overrides/inputs/log.json', mediaType: 'application/json' });
    expect(documentsInFolder(folder, { proposal: 'drafts/proposal-v2.md' })).toContain('proposal');

    const outside = await failureOf(activities.collectReviewDocuments({ reviewId: 'review-x', subject: { source: 'folder', path: folder, files: { paper: '../own-outputs/results/paper.md' } } }));
    expect(outside).toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: expect.stringContaining('outside the review folder') });
    const absent = await failureOf(activities.collectReviewDocuments({ reviewId: 'review-x', subject: { source: 'folder', path: folder, files: { paper: 'nope.md' } } }));
    expect(absent.message).toContain('files.paper names "nope.md", which is not a file');
  });

  it('a missing folder is a clear, non-retryable InvalidInput', async () => {
    const failure = await failureOf(activities.collectReviewDocuments({ reviewId: 'review-x', subject: { source: 'folder', path: path.join(tmp, 'no-such-folder') } }));
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(failure.message).toMatch(/review folder .*no-such-folder does not exist/);
  });

  it.skipIf(!existsSync(SHARED_TASK))('reads a published end-to-end folder (MLR-Bench layout, code left out) and judges it end to end', async () => {
    const docs = await activities.collectReviewDocuments({ reviewId: 'review-shared', subject: { source: 'folder', path: SHARED_TASK } });
    for (const name of ['task', 'idea', 'related_work', 'proposal', 'results', 'log', 'paper'] as const) expect(docs[name], name).toBeDefined();
    expect(await store.getText(docs.log!)).toBe(readFileSync(path.join(SHARED_TASK, 'results', 'log.txt'), 'utf8'));
    expect(docs.code).toEqual([]);
    expect(docs.figures.map((f) => path.basename(f.path)).sort()).toEqual(['Baseline_training_curves.png', 'CIMRL_training_curves.png', 'group_metrics.png', 'model_comparison.png']);

    const since = fake.requests.length;
    const verdict = await run(activities.judgeReview, judgeInput('end_to_end', 'review-shared', docs, { withCode: false }));
    const [req] = requestsFor('judge-a', since);
    expect(req.prompt).toContain('=== BEGIN paper.md: Paper ===');
    expect(req.prompt).toContain('- results/figures/model_comparison.png');
    expect(req.prompt).toContain('You cannot see these images');
    expect(verdict.artifact.path).toBe('runs/review-shared/reviews/end_to_end-no-code/attempts/review-shared-end_to_end/openai-compatible_judge-a.json');
    expect(Object.keys(verdict.scores)).toEqual(['Clarity', 'Novelty', 'Soundness', 'Significance', 'Overall', 'Confidence']);
  });
});

function judgeInput(kind: ReviewKind, storeId: string, documents: ReviewDocuments, over: Partial<JudgeReviewInput> = {}): JudgeReviewInput {
  return { reviewId: `${storeId}-${kind}`, storeId, kind, withCode: true, judge: spec('judge-a'), documents, ...over };
}

describe('judge activities', () => {
  let docs: ReviewDocuments;
  beforeAll(async () => {
    docs = await activities.collectReviewDocuments({ reviewId: 'review-kinds', subject: { source: 'folder', path: writeFolder('all-kinds') } });
  });

  it.each(REVIEW_KINDS.map((k) => [k]))('%s: a valid answer is stored as MLR-Bench shaped JSON and reduced to a verdict', async (kind) => {
    const rubric = loadRubric(kind);
    const since = fake.requests.length;
    const verdict = await run(activities.judgeReview, judgeInput(kind, 'review-kinds', docs));

    const [req, ...more] = requestsFor('judge-a', since);
    expect(more).toEqual([]);
    expect(req.prompt.split('\n')[0]).toBe(`Review (rubric ${kind} v1)`);
    expect(req.system).toContain('JSON Schema');
    // Each kind sees what its rubric reads, and nothing else.
    expect(req.prompt.includes('MAIN_PY_MARKER')).toBe(rubric.reads.includes('code'));
    expect(req.prompt.includes('ECE falls from 0.052')).toBe(rubric.reads.includes('paper'));
    expect(req.prompt.includes('Learn a temperature per detected shift')).toBe(rubric.reads.includes('idea'));
    expect(req.prompt.includes('weights.bin')).toBe(false);

    expect(verdict.artifact.path).toBe(`runs/review-kinds/reviews/${kind}/attempts/review-kinds-${kind}/${judgeSlug(spec('judge-a'))}.json`);
    expect(verdict.artifact.mediaType).toBe('application/json');
    const stored = JSON.parse(await store.getText(verdict.artifact));
    expect(Object.keys(stored)).toEqual(FACTS[kind]);
    expect(answerSchema(rubric).safeParse(stored).success).toBe(true);
    expect(stored).toEqual(JSON.parse(scriptedJudgeReply(req.prompt, req.system)!));

    const numeric = FACTS[kind].filter((k) => typeof stored[k] === 'number' || typeof stored[k]?.score === 'number');
    expect(Object.keys(verdict.scores)).toEqual(numeric);
    for (const k of numeric) expect(verdict.scores[k]).toBe(stored[k].score ?? stored[k]);
    expect(verdict.overall).toBe(rubric.overall ? stored[rubric.overall.name].score : undefined);
    expect(verdict.hasHallucination).toBe(kind === 'experiment' ? stored.Hallucination.has_hallucination : kind === 'hallucination' ? stored.has_hallucination : undefined);
    expect(verdict).toMatchObject({ judge: spec('judge-a'), model: 'judge-a', rubricVersion: 'v1', usage: { llmCalls: 1, inputTokens: 5000, outputTokens: 900 } });
  });

  it('end-to-end, hallucination and MLRC reviews without code go to <kind>-no-code and show no code', async () => {
    for (const kind of ['end_to_end', 'hallucination', 'mlrc'] as const) {
      const since = fake.requests.length;
      const verdict = await run(activities.judgeReview, judgeInput(kind, 'review-kinds', docs, { withCode: false, reviewId: `review-kinds-${kind}-no-code` }));
      expect(verdict.artifact.path).toBe(`runs/review-kinds/reviews/${kind}-no-code/attempts/review-kinds-${kind}-no-code/${judgeSlug(spec('judge-a'))}.json`);
      const [req] = requestsFor('judge-a', since);
      expect(req.prompt).not.toContain('MAIN_PY_MARKER');
      expect(req.prompt).toContain('=== Code: withheld ===');
    }
    // Kinds that always read the code keep one folder whatever withCode says.
    const since = fake.requests.length;
    const verdict = await run(activities.judgeReview, judgeInput('experiment', 'review-kinds', docs, { withCode: false, reviewId: 'review-kinds-e2' }));
    expect(verdict.artifact.path).toBe(`runs/review-kinds/reviews/experiment/attempts/review-kinds-e2/${judgeSlug(spec('judge-a'))}.json`);
    expect(requestsFor('judge-a', since)[0].prompt).toContain('MAIN_PY_MARKER');
  });

  it('different documents get different, stable scores', async () => {
    const other = await activities.collectReviewDocuments({
      reviewId: 'review-other',
      subject: { source: 'folder', path: writeFolder('other-outputs', [], { 'results/paper.md': '# A different paper\n\nNothing in common.\n' }) },
    });
    const a1 = await run(activities.judgeReview, judgeInput('paper', 'review-kinds', docs, { reviewId: 'stable-1' }));
    const a2 = await run(activities.judgeReview, judgeInput('paper', 'review-kinds', docs, { reviewId: 'stable-2' }));
    const b = await run(activities.judgeReview, judgeInput('paper', 'review-other', other));
    expect(a2.scores).toEqual(a1.scores);
    expect(b.artifact.sha256).not.toBe(a1.artifact.sha256);
  });

  it('an answer missing a dimension is re-asked once and then accepted', async () => {
    const since = fake.requests.length;
    const verdict = await run(activities.judgeReview, judgeInput('idea', 'review-kinds', docs, { judge: spec('judge-forgetful') }));
    const reqs = requestsFor('judge-forgetful', since);
    expect(reqs).toHaveLength(2);
    expect(reqs[1].prompt).toMatch(/^That reply is not valid: Novelty: /);
    expect(verdict.scores.Novelty).toBeGreaterThanOrEqual(1);
    expect(verdict.usage.llmCalls).toBe(2);
    expect(JSON.parse(await store.getText(verdict.artifact)).Novelty.justification).toBeTruthy();
  });

  it('an out-of-range score twice fails for good as InvalidJudgeAnswer, naming judge, kind and problem', async () => {
    const since = fake.requests.length;
    const failure = await failureOf(run(activities.judgeReview, judgeInput('proposal', 'review-kinds', docs, { judge: spec('judge-wild') })));
    expect(requestsFor('judge-wild', since)).toHaveLength(2);
    expect(failure).toMatchObject({ type: 'InvalidJudgeAnswer', nonRetryable: true });
    expect(failure.message).toContain(`judge ${spec('judge-wild')}`);
    expect(failure.message).toContain('proposal review');
    expect(failure.message).toContain('Clarity.score');
    // The JSON was valid: the message says what was wrong with it, and the two paid calls travel with the failure.
    expect(failure.message).toContain('answer out of range');
    expect(failure.message.split(spec('judge-wild')).length - 1).toBe(1);
    const [details] = (failure as ApplicationFailure).details as Array<{ usage: { llmCalls: number; inputTokens: number; outputTokens: number }; rubricVersion: string }>;
    expect(details.usage.llmCalls).toBe(2);
    expect(details.usage.inputTokens + details.usage.outputTokens).toBeGreaterThan(0);
    expect(details.rubricVersion).toBe('v1');
    expect(NON_RETRYABLE_STAGE_ERRORS).toContain('InvalidJudgeAnswer');
    expect(existsSync(path.join(store.root, 'runs', 'review-kinds', 'reviews', 'proposal', `${judgeSlug(spec('judge-wild'))}.json`))).toBe(false);
  });

  it('a retried judge activity reuses the answer it already paid for', async () => {
    const since = fake.requests.length;
    const input = judgeInput('idea', 'review-kinds', docs, { reviewId: 'review-retried', judge: spec('judge-override') });
    const first = await run(cachedActivities.judgeReview, input);
    const again = await run(cachedActivities.judgeReview, input);
    expect(requestsFor('judge-override', since)).toHaveLength(1);
    expect(again.scores).toEqual(first.scores);
    expect(again.artifact).toEqual(first.artifact);
  });

  it('a missing required document is refused before any model is asked', async () => {
    const folder = writeFolder('no-proposal', ['proposal.md']);
    expect(missingDocuments('proposal', documentsInFolder(folder))).toEqual(['proposal']);
    expect(missingDocuments('idea', documentsInFolder(folder))).toEqual([]);
    const noProposal = await activities.collectReviewDocuments({ reviewId: 'review-no-proposal', subject: { source: 'folder', path: folder } });
    expect(missingDocuments('proposal', noProposal)).toEqual(['proposal']);
    const since = fake.requests.length;
    const failure = await failureOf(run(activities.judgeReview, judgeInput('proposal', 'review-no-proposal', noProposal)));
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(failure.message).toBe('a proposal review needs proposal (proposal.md), which the review subject lacks; add the file or name another one with files.proposal');
    expect(fake.requests.length).toBe(since);

    const { paper: _paper, ...noPaper } = docs;
    expect((await failureOf(run(activities.judgeReview, judgeInput('end_to_end', 'review-kinds', noPaper)))).message).toContain('paper (results/paper.md or paper.md)');
  });

  it('writes the review summary beside the judges’ answers, in its attempt folder; a completed one also as the kind’s summary', async () => {
    const [a, b] = await Promise.all(
      ['judge-a', 'judge-b'].map((m) => run(activities.judgeReview, judgeInput('end_to_end', 'review-kinds', docs, { judge: spec(m), reviewId: 'review-summary' }))),
    );
    const result: ReviewResult = {
      reviewId: 'review-summary',
      kind: 'end_to_end',
      rubricVersion: 'v1',
      status: 'completed',
      subject: 'all-kinds',
      withCode: true,
      verdicts: [a, b],
      failures: [],
      ...combineVerdicts([a, b]),
      usage: { llmCalls: 2, inputTokens: 10_000, outputTokens: 1_800, costUsd: 0 },
    };
    const ref = await activities.writeReviewSummary({ storeId: 'review-kinds', result });
    expect(ref.path).toBe('runs/review-kinds/reviews/end_to_end/attempts/review-summary/summary.json');
    expect(a.artifact.path).toBe(`runs/review-kinds/reviews/end_to_end/attempts/review-summary/${judgeSlug(spec('judge-a'))}.json`);
    const stored = { ...JSON.parse(JSON.stringify(result)), attempt: 'review-summary' };
    expect(JSON.parse(await store.getText(ref))).toEqual(stored);
    const latest = path.join(store.root, 'runs/review-kinds/reviews/end_to_end/summary.json');
    expect(JSON.parse(readFileSync(latest, 'utf8'))).toEqual(stored);
    const noCode = await activities.writeReviewSummary({ storeId: 'review-kinds', result: { ...result, withCode: false } });
    expect(noCode.path).toBe('runs/review-kinds/reviews/end_to_end-no-code/attempts/review-summary/summary.json');

    // A failed attempt is stored apart and leaves the latest completed summary alone.
    const failed: ReviewResult = { ...result, reviewId: 'review-summary-2', status: 'failed', rubricVersion: 'unknown', verdicts: [], failures: [{ judge: 'x', error: 'no' }] };
    delete failed.mean;
    delete failed.disagreement;
    const failedRef = await activities.writeReviewSummary({ storeId: 'review-kinds', result: failed });
    expect(failedRef.path).toBe('runs/review-kinds/reviews/end_to_end/attempts/review-summary-2/summary.json');
    expect(JSON.parse(await store.getText(failedRef))).toMatchObject({ status: 'failed', rubricVersion: 'v1', attempt: 'review-summary-2' });
    expect(JSON.parse(readFileSync(latest, 'utf8'))).toEqual(stored);
  });
});

describe('why a judge answer was refused', () => {
  it('tells an out-of-range answer from unparseable JSON and from other rubric mismatches', () => {
    const gateway = (detail: string) => `openai:x returned invalid JSON twice (${detail})`;
    expect(invalidAnswerReason(gateway('Clarity.score: Too big: expected number to be <=10; Novelty.score: Too small: expected number to be >=1')).problem).toBe('answer out of range');
    expect(invalidAnswerReason(gateway('not parseable JSON (Unexpected token)')).problem).toBe('no valid JSON');
    expect(invalidAnswerReason(gateway('Clarity.score: Too big: expected number to be <=10; Novelty: Invalid input: expected object, received undefined')).problem).toBe('answer does not match the rubric');
    expect(invalidAnswerReason(gateway('Clarity.score: Too big: expected number to be <=10')).detail).toBe('Clarity.score: Too big: expected number to be <=10');
  });
});

describe('combining judges', () => {
  it('the mean and the disagreement (range, sample sd) of two judges', () => {
    const verdict = (scores: Record<string, number>) => ({ scores }) as Pick<JudgeVerdict, 'scores'>;
    const { mean, disagreement } = combineVerdicts([
      verdict({ Clarity: 8, Soundness: 3, Overall: 4, Confidence: 4 }),
      verdict({ Clarity: 7, Soundness: 6, Overall: 5, Confidence: 4, Extra: 9 }),
    ]);
    expect(mean).toEqual({ Clarity: 7.5, Soundness: 4.5, Overall: 4.5, Confidence: 4 });
    // Two values a and b: sample sd = |a - b| / sqrt(2).
    expect(disagreement).toEqual({
      Clarity: { range: 1, sd: 0.707 },
      Soundness: { range: 3, sd: 2.121 },
      Overall: { range: 1, sd: 0.707 },
      Confidence: { range: 0, sd: 0 },
    });
    expect(combineVerdicts([verdict({ Overall: 6 })])).toEqual({ mean: { Overall: 6 } });
  });

  it('the scripted judge answers only judge prompts, and validly for every kind', () => {
    expect(scriptedJudgeReply('Propose one research idea', '')).toBeUndefined();
    for (const kind of REVIEW_KINDS) {
      const reply = scriptedJudgeReply(`Review (rubric ${kind} v1)\n\nsome documents`, '')!;
      expect(answerSchema(loadRubric(kind)).safeParse(JSON.parse(reply)).success).toBe(true);
    }
    // A rubric the project does not have: answered from the JSON Schema in the system prompt.
    const schema = z.toJSONSchema(answerSchema(loadRubric('paper')), { target: 'draft-7' });
    const reply = scriptedJudgeReply('Review (rubric paper v7)\n\ndocs', `Reply with one JSON object only, no prose, matching this JSON Schema:\n${JSON.stringify(schema)}`)!;
    expect(answerSchema(loadRubric('paper')).safeParse(JSON.parse(reply)).success).toBe(true);
  });
});
