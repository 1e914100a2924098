/** Token prices kept as data (prices.json), overridable with a JSON file named by LAB_PRICES_FILE. */
import { readFileSync } from 'node:fs';
import type { ModelSpec } from '../../common/modelSpec.js';
import type { Budget } from '../../common/schemas.js';
import defaults from './prices.json' with { type: 'json' };

export interface Price {
  /** USD per 1M input tokens. */
  input: number;
  /** USD per 1M output tokens. */
  output: number;
}

let table: Record<string, Price> | undefined;

export function priceTable(): Record<string, Price> {
  if (table) return table;
  const merged: Record<string, Price> = {};
  for (const [k, v] of Object.entries(defaults)) if (!k.startsWith('_')) merged[k] = v as Price;
  const file = process.env.LAB_PRICES_FILE;
  if (file) {
    const extra = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Price>;
    for (const [k, v] of Object.entries(extra)) {
      if (k.startsWith('_')) continue;
      if (typeof v?.input !== 'number' || typeof v?.output !== 'number') {
        throw new Error(`${file}: price for "${k}" needs numeric "input" and "output" (USD per 1M tokens)`);
      }
      merged[k] = v;
    }
  }
  return (table = merged);
}

/** Price for `provider:model` by longest prefix match; undefined if the model is not in the table. */
export function priceFor(provider: string, model: string): Price | undefined {
  const key = `${provider}:${model}`;
  let best: string | undefined;
  for (const candidate of Object.keys(priceTable())) {
    if (key.startsWith(candidate) && (!best || candidate.length > best.length)) best = candidate;
  }
  return best === undefined ? undefined : priceTable()[best];
}

export function costUsd(price: Price | undefined, inputTokens: number, outputTokens: number): number {
  if (!price) return 0;
  return Math.round(((inputTokens * price.input + outputTokens * price.output) / 1e6) * 1e6) / 1e6;
}

/**
 * Why a USD budget cannot be kept for this model, or undefined when it can (or none is set).
 * A model with no price in the table, or a price of $0 (local models), would run any number of
 * calls under any USD budget, so such a budget is refused rather than silently ignored.
 */
export function unenforceableBudget(spec: ModelSpec, budget: Budget | undefined): string | undefined {
  if (budget?.usd === undefined) return undefined;
  const price = priceFor(spec.provider, spec.model);
  const fix = 'use --max-tokens, or add its price with LAB_PRICES_FILE';
  if (!price) return `--budget-usd needs a price for ${spec.spec}; none in the price table: ${fix}`;
  if (price.input <= 0 && price.output <= 0) {
    return `--budget-usd needs a price for ${spec.spec}; the price table lists it at $0, so no USD budget can limit it: ${fix}`;
  }
  return undefined;
}

/** Test hook: forget the cached table after LAB_PRICES_FILE changed. */
export function resetPriceTable(): void {
  table = undefined;
}
