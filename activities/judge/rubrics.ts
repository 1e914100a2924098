/**
 * Judge rubrics: data files `rubrics/<kind>.<version>.json`, validated here, and the zod schema
 * of a judge's answer built from a rubric. The answer keeps MLR-Bench's output shape, so our
 * reviews sit beside the published ones: each dimension `{score, justification}`, the overall item
 * `{score, strengths, weaknesses}`, optional `Confidence`, the experiment review's `Hallucination`
 * object, and the hallucination check's own fields. One code path serves every kind: a rubric
 * only says which of these parts it has.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { reviewKindSchema, type ReviewDocumentName, type ReviewKind } from '../../common/reviews.js';
import { RUBRICS_DIR } from '../config.js';

const DOCUMENT_NAMES = ['task', 'idea', 'related_work', 'proposal', 'results', 'log', 'paper'] as const satisfies readonly ReviewDocumentName[];
/** What a judge can be shown: the named documents, the code files, the figures' names. */
export const READABLE = [...DOCUMENT_NAMES, 'code', 'figures'] as const;
export type Readable = (typeof READABLE)[number];

/** A band label: one score (`"5"`) or an inclusive range (`"9-10"`). */
const BAND = /^(\d+)(?:-(\d+))?$/;
const anchorsSchema = z.record(z.string().regex(BAND, 'band labels look like "9-10" or "5"'), z.string().min(1));
/** Answer keys are plain identifiers (they become JSON keys and verdict score names). */
const keySchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
const rangeSchema = z.object({ min: z.number().int(), max: z.number().int() }).refine((r) => r.min < r.max, 'min must be below max');

const dimensionSchema = z.object({ name: keySchema, question: z.string().min(1), anchors: anchorsSchema }).strict();

export const rubricSchema = z
  .object({
    kind: reviewKindSchema,
    version: z.string().regex(/^v\d+$/),
    title: z.string().min(1),
    /** What is being judged, in a phrase; the prompt's opening names it. */
    subject: z.string().min(1),
    /** Everything the judge is shown, in prompt order. */
    reads: z.array(z.enum(READABLE)).min(1),
    /** Documents without which the review is refused (InvalidInput). */
    requires: z.array(z.enum(DOCUMENT_NAMES)),
    /** `optional`: shown only when the review asks for code (results go under `<kind>-no-code` otherwise). */
    code: z.enum(['never', 'always', 'optional']),
    /** The scale of every dimension and of the overall item. */
    scale: rangeSchema.optional(),
    /** Kind-specific advice to the judge, one sentence or two each. */
    guidance: z.array(z.string().min(1)).default([]),
    /** Experiment review: `{has_hallucination, details}` under this name, before the dimensions. */
    hallucination: z.object({ name: keySchema, question: z.string().min(1) }).strict().optional(),
    dimensions: z.array(dimensionSchema),
    overall: z
      .object({
        name: keySchema,
        question: z.string().min(1),
        /** Why the overall score is a judgement of the whole, not a mean. */
        holistic: z.string().min(1),
        anchors: anchorsSchema,
        strengths: z.string().min(1),
        weaknesses: z.string().min(1),
      })
      .strict()
      .optional(),
    /** Hallucination check: a flag, a list of typed findings, and a summary, as top-level keys. */
    findings: z
      .object({
        flag: keySchema,
        list: keySchema,
        summary: keySchema,
        question: z.string().min(1),
        types: z.array(z.object({ name: z.string().min(1), description: z.string().min(1) }).strict()).min(1),
      })
      .strict()
      .optional(),
    /** A bare integer on its own scale (MLR-Bench: `Confidence` 1–5). */
    confidence: z.object({ name: keySchema, min: z.number().int(), max: z.number().int(), question: z.string().min(1), anchors: anchorsSchema }).strict().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    for (const name of r.requires) if (!r.reads.includes(name)) problem(`requires "${name}" but does not read it`);
    if ((r.code === 'never') === r.reads.includes('code')) problem(`code is "${r.code}" but reads ${r.reads.includes('code') ? 'includes' : 'lacks'} "code"`);
    if (!r.dimensions.length && !r.findings) problem('has neither dimensions nor findings');
    if (r.findings && r.hallucination) problem('has both findings and a hallucination item');
    if ((r.dimensions.length || r.overall) && !r.scale) problem('has scored items but no scale');
    const keys = [
      r.hallucination?.name,
      ...r.dimensions.map((d) => d.name),
      r.overall?.name,
      ...(r.findings ? [r.findings.flag, r.findings.list, r.findings.summary] : []),
      r.confidence?.name,
    ].filter((k): k is string => Boolean(k));
    for (const k of new Set(keys)) if (keys.filter((x) => x === k).length > 1) problem(`answer key "${k}" is used twice`);
    if (r.scale) {
      for (const d of [...r.dimensions, ...(r.overall ? [r.overall] : [])]) {
        for (const p of bandProblems(d.anchors, r.scale)) problem(`${'name' in d ? d.name : 'overall'}: ${p}`);
      }
    }
    if (r.confidence) {
      if (r.confidence.min >= r.confidence.max) problem('confidence: min must be below max');
      else for (const p of bandProblems(r.confidence.anchors, r.confidence)) problem(`${r.confidence.name}: ${p}`);
    }
  });
export type Rubric = z.output<typeof rubricSchema>;

/** The bands of an anchor set must cover every score of the scale exactly once. */
function bandProblems(anchors: Record<string, string>, scale: { min: number; max: number }): string[] {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const label of Object.keys(anchors)) {
    const [lo, hi] = band(label);
    if (lo > hi) problems.push(`band "${label}" is reversed`);
    for (let s = lo; s <= hi; s++) {
      if (s < scale.min || s > scale.max) problems.push(`band "${label}" leaves the scale ${scale.min}-${scale.max}`);
      else if (seen.has(s)) problems.push(`score ${s} is in bands "${seen.get(s)}" and "${label}"`);
      else seen.set(s, label);
    }
  }
  for (let s = scale.min; s <= scale.max; s++) if (!seen.has(s)) problems.push(`no band covers score ${s}`);
  return [...new Set(problems)];
}

/** `[low, high]` of a band label. */
export function band(label: string): [number, number] {
  const m = BAND.exec(label);
  if (!m) throw new Error(`not a band label: ${label}`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

/** A rubric's anchors, highest band first. */
export function bandsHighFirst(anchors: Record<string, string>): Array<[string, string]> {
  return Object.entries(anchors).sort((a, b) => band(b[0])[1] - band(a[0])[1]);
}

export class RubricError extends Error {}

const cache = new Map<string, Rubric>();

/**
 * The rubric of `kind`: the given version, else the newest `<kind>.v<N>.json` in `dir`. Read
 * synchronously and cached: rubric files are small and part of the project.
 */
export function loadRubric(kind: ReviewKind, version?: string, dir = RUBRICS_DIR): Rubric {
  const file = path.join(dir, `${kind}.${version ?? newestVersion(kind, dir)}.json`);
  const cached = cache.get(file);
  if (cached) return cached;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RubricError(`cannot read rubric ${file}: ${(err as Error).message}`);
  }
  const rubric = parseRubric(raw, file);
  if (rubric.kind !== kind) throw new RubricError(`rubric ${file} is for kind "${rubric.kind}", not "${kind}"`);
  cache.set(file, rubric);
  return rubric;
}

/** Validates rubric data; `where` names it in the error. */
export function parseRubric(raw: unknown, where = 'rubric'): Rubric {
  const parsed = rubricSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RubricError(`${where} is not a valid rubric: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * Newest version per folder and kind, found once per process like the rubrics themselves (a judge
 * call asked for it several times, each a directory listing on the worker's main thread): a rubric
 * version added while a worker runs is picked up when it restarts.
 */
const newestVersions = new Map<string, string>();

function newestVersion(kind: ReviewKind, dir: string): string {
  const key = `${dir}\0${kind}`;
  let newest = newestVersions.get(key);
  if (!newest) {
    newest = findNewestVersion(kind, dir);
    newestVersions.set(key, newest);
  }
  return newest;
}

function findNewestVersion(kind: ReviewKind, dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new RubricError(`cannot list rubrics in ${dir}: ${(err as Error).message}`);
  }
  const versions = names
    .map((n) => new RegExp(`^${kind}\\.v(\\d+)\\.json$`).exec(n))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .map((m) => Number(m[1]));
  if (!versions.length) throw new RubricError(`no rubric for "${kind}" in ${dir} (expected ${kind}.v1.json)`);
  return `v${Math.max(...versions)}`;
}

const score = (min: number, max: number) => z.number().int().min(min).max(max);
/** Template text a weak model copies instead of answering ("<strength>", "None", "..."). */
const PLACEHOLDER = /^(<[^<>]*>|none|n\/a|\.{3}|…|todo|tbd|-)$/i;
const text = () =>
  z
    .string()
    .trim()
    .min(1)
    .refine((s) => !PLACEHOLDER.test(s), { message: 'is a placeholder, not an answer' });

/** Answer schemas by rubric: loaded rubrics are cached, so each judge call finds its schema built. */
const answerSchemas = new WeakMap<Rubric, ReturnType<typeof buildAnswerSchema>>();

/**
 * The zod schema of a judge's answer under `rubric`. Unknown keys are dropped, so the stored
 * answer holds the MLR-Bench shape and nothing else; a missing item, or a score that is not a
 * whole number inside its scale, fails.
 */
export function answerSchema(rubric: Rubric) {
  let schema = answerSchemas.get(rubric);
  if (!schema) {
    schema = buildAnswerSchema(rubric);
    answerSchemas.set(rubric, schema);
  }
  return schema;
}

function buildAnswerSchema(rubric: Rubric) {
  const shape: Record<string, z.ZodType> = {};
  const scale = rubric.scale ?? { min: 1, max: 10 };
  if (rubric.hallucination) shape[rubric.hallucination.name] = z.object({ has_hallucination: z.boolean(), details: text() });
  for (const d of rubric.dimensions) shape[d.name] = z.object({ score: score(scale.min, scale.max), justification: text() });
  if (rubric.overall) {
    shape[rubric.overall.name] = z.object({
      score: score(scale.min, scale.max),
      justification: text().optional(),
      strengths: z.array(text()).min(1),
      weaknesses: z.array(text()).min(1),
    });
  }
  const f = rubric.findings;
  if (f) {
    const types = f.types.map((t) => t.name) as [string, ...string[]];
    shape[f.flag] = z.boolean();
    shape[f.list] = z.array(z.object({ type: z.enum(types), description: text(), evidence: text() }));
    shape[f.summary] = text();
  }
  if (rubric.confidence) shape[rubric.confidence.name] = score(rubric.confidence.min, rubric.confidence.max);
  const base = z.object(shape);
  if (!f) return base;
  // A flag that contradicts the list would make counts of hallucinated papers unreliable.
  return base.refine((a) => a[f.flag] === (a[f.list] as unknown[]).length > 0, {
    message: `${f.flag} must be true exactly when ${f.list} lists at least one finding`,
    path: [f.flag],
  });
}

export type JudgeAnswer = Record<string, unknown>;

/** Every number an answer holds, by its rubric name: dimensions, the overall item, confidence. */
export function answerScores(rubric: Rubric, answer: JudgeAnswer): Record<string, number> {
  const scores: Record<string, number> = {};
  for (const item of [...rubric.dimensions, ...(rubric.overall ? [rubric.overall] : [])]) {
    scores[item.name] = (answer[item.name] as { score: number }).score;
  }
  if (rubric.confidence) scores[rubric.confidence.name] = answer[rubric.confidence.name] as number;
  return scores;
}

/** Whether the judge found hallucinated content; undefined for rubrics that do not ask. */
export function answerHasHallucination(rubric: Rubric, answer: JudgeAnswer): boolean | undefined {
  if (rubric.hallucination) return (answer[rubric.hallucination.name] as { has_hallucination: boolean }).has_hallucination;
  if (rubric.findings) return answer[rubric.findings.flag] as boolean;
  return undefined;
}

/** Whether a review of this kind sees code: `always` kinds always, `optional` kinds when asked. */
export function showsCode(rubric: Rubric, withCode: boolean): boolean {
  return rubric.code === 'always' || (rubric.code === 'optional' && withCode);
}

/** `reviews/<kind>` or, for a kind whose code is optional and left out, `reviews/<kind>-no-code`. */
export function reviewFolder(rubric: Pick<Rubric, 'kind' | 'code'>, withCode: boolean): string {
  return `reviews/${rubric.kind}${rubric.code === 'optional' && !withCode ? '-no-code' : ''}`;
}
