/**
 * A scripted judge for tests: a valid answer to any judge prompt (recognised by its first line,
 * `Review (rubric <kind> <version>)`), built from that rubric file, or, for a rubric not among
 * the project's files, from the JSON Schema the gateway puts in the system prompt. Scores come
 * from a hash of the prompt: stable for the same documents, different for different ones, always
 * inside the scale.
 */
import { createHash } from 'node:crypto';
import { rubricOfPrompt } from '../../activities/judge/prompt.js';
import { loadRubric, RubricError, type Rubric } from '../../activities/judge/rubrics.js';
import type { ReviewKind } from '../../common/reviews.js';

export function scriptedJudgeReply(prompt: string, system: string): string | undefined {
  const which = rubricOfPrompt(prompt);
  if (!which) return undefined;
  const seed = createHash('sha256').update(prompt).digest('hex');
  let rubric: Rubric | undefined;
  try {
    rubric = loadRubric(which.kind as ReviewKind, which.version);
  } catch (err) {
    if (!(err instanceof RubricError)) throw err;
  }
  if (rubric) return JSON.stringify(fromRubric(rubric, seed), null, 2);
  const schema = schemaInSystem(system);
  return schema ? JSON.stringify(fromJsonSchema(schema, seed, 'answer'), null, 2) : undefined;
}

/** A whole number in [min, max] drawn from the seed and a label. */
function draw(seed: string, label: string, min: number, max: number): number {
  const h = createHash('sha256').update(`${seed}/${label}`).digest();
  return min + (h.readUInt32BE(0) % (max - min + 1));
}

function fromRubric(rubric: Rubric, seed: string): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  const scale = rubric.scale ?? { min: 1, max: 10 };
  if (rubric.hallucination) {
    const found = draw(seed, rubric.hallucination.name, 0, 2) === 0;
    answer[rubric.hallucination.name] = {
      has_hallucination: found,
      details: found ? 'Scripted judge: the results table reports numbers the log never prints.' : 'Scripted judge: every reported number appears in the log.',
    };
  }
  for (const d of rubric.dimensions) {
    const score = draw(seed, d.name, scale.min, scale.max);
    answer[d.name] = { score, justification: `Scripted judge: ${d.name} scores ${score} of ${scale.max} for this document set.` };
  }
  if (rubric.overall) {
    answer[rubric.overall.name] = {
      score: draw(seed, rubric.overall.name, scale.min, scale.max),
      strengths: ['Scripted strength: the work addresses the task.', 'Scripted strength: the method is described.'],
      weaknesses: ['Scripted weakness: evaluation is small.', 'Scripted weakness: limitations are brief.'],
    };
  }
  const f = rubric.findings;
  if (f) {
    const found = draw(seed, f.flag, 0, 1) === 1;
    answer[f.flag] = found;
    answer[f.list] = found
      ? [{ type: f.types[draw(seed, f.list, 0, f.types.length - 1)].name, description: 'Scripted finding.', evidence: 'Scripted evidence: section 5, table 1.' }]
      : [];
    answer[f.summary] = found ? 'Scripted judge: one claim cannot be trusted.' : 'Scripted judge: nothing hallucinated was found.';
  }
  if (rubric.confidence) answer[rubric.confidence.name] = draw(seed, rubric.confidence.name, rubric.confidence.min, rubric.confidence.max);
  return answer;
}

/** The JSON Schema after the gateway's "matching this JSON Schema:" line. */
function schemaInSystem(system: string): Record<string, any> | undefined {
  const at = system.lastIndexOf('JSON Schema:\n');
  if (at < 0) return undefined;
  try {
    return JSON.parse(system.slice(at + 'JSON Schema:\n'.length));
  } catch {
    return undefined;
  }
}

/** A value for a JSON Schema: flags false and optional lists empty, so cross-field rules hold. */
function fromJsonSchema(schema: Record<string, any>, seed: string, label: string): unknown {
  if (schema.enum) return schema.enum[draw(seed, label, 0, schema.enum.length - 1)];
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries<Record<string, any>>(schema.properties ?? {})) {
        if ((schema.required ?? []).includes(key)) out[key] = fromJsonSchema(sub, seed, `${label}.${key}`);
      }
      return out;
    }
    case 'array': {
      const n = schema.minItems ? schema.minItems + 1 : 0;
      return Array.from({ length: n }, (_, i) => fromJsonSchema(schema.items ?? {}, seed, `${label}.${i}`));
    }
    case 'integer':
    case 'number':
      return draw(seed, label, schema.minimum ?? 1, schema.maximum ?? 10);
    case 'boolean':
      return false;
    default:
      return `Scripted text for ${label}.`;
  }
}
