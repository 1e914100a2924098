/**
 * Parsers for the values of `lab` options. Each throws an Error whose message names the option
 * and says what is wrong, so the CLI can print it as the one line a person reads.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ModelSpecError, parseModelSpec } from '../../common/modelSpec.js';
import { isStageName, STAGES, type StageName } from '../../common/stages.js';
import { isValidRunId, RUN_ID_RULE } from '../../common/runIds.js';

export function positiveNumber(option: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`${option} must be a positive number, got "${value}"`);
    return n;
  };
}

export function wholeNumber(option: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new Error(`${option} must be a whole number ${range}, got "${value}"`);
    }
    return n;
  };
}

export const port = (option: string) => wholeNumber(option, 1, 65535);

export function oneOf<T extends string>(option: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new Error(`${option} must be one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
}

export function nonEmptyText(option: string) {
  return (value: string): string => {
    const text = value.trim();
    if (!text) throw new Error(`${option} needs some text`);
    return text;
  };
}

/** Durations like 90, 90s, 30m, 2h, 1d → seconds (more than zero). */
export function duration(option: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(value.trim());
    const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'] : 0;
    if (!m || seconds <= 0) throw new Error(`${option} must be a duration like 90s, 30m, 2h or 1d, got "${value}"`);
    return seconds;
  };
}

/** A comma-separated list with no empty and no repeated item. */
export function list(option: string) {
  return (value: string): string[] => {
    const items = value.split(',').map((s) => s.trim());
    if (items.some((s) => !s)) throw new Error(`${option} has an empty item in "${value}"`);
    const repeated = items.find((s, i) => items.indexOf(s) !== i);
    if (repeated) throw new Error(`${option} lists "${repeated}" twice`);
    return items;
  };
}

export function stageList(option: string) {
  const items = list(option);
  return (value: string): StageName[] => {
    const names = items(value);
    const unknown = names.find((n) => !isStageName(n));
    if (unknown) throw new Error(`${option}: unknown stage "${unknown}" (stages are: ${STAGES.join(', ')})`);
    return names as StageName[];
  };
}

/**
 * A model spec checked as far as this machine can: the syntax, and for `embedded:<file>` that the
 * file exists (made absolute, since the worker may run in another folder).
 */
export function modelSpec(option: string) {
  return (value: string): string => {
    if (value.trim() === 'auto') return 'auto';
    let spec;
    try {
      spec = parseModelSpec(value);
    } catch (err) {
      if (err instanceof ModelSpecError) throw new Error(`${option}: ${err.message}`);
      throw err;
    }
    if (spec.provider === 'embedded' && spec.model) {
      const file = path.resolve(spec.model);
      if (!existsSync(file)) throw new Error(`${option}: embedded model file not found: ${file}`);
      return `embedded:${file}`;
    }
    return spec.spec;
  };
}

/** A new run id chosen by the user: it becomes a folder name, so it must be a plain name. */
export function newRunId(option: string) {
  return (value: string): string => {
    if (!isValidRunId(value)) throw new Error(`${option} "${value}" is not a valid run id: ${RUN_ID_RULE}`);
    return value;
  };
}

/** An existing run to look up: any id Temporal could hold, but not empty or with control characters. */
export function runIdToFind(value: string): string {
  if (!value.trim() || /[\u0000-\u001f\u007f]/.test(value)) throw new Error(`"${value}" is not a run id (see \`lab list\`)`);
  return value;
}
