/** Token prices kept as data (prices.json), overridable with a JSON file named by LAB_PRICES_FILE. */
import { readFileSync } from 'node:fs';
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

/** Test hook: forget the cached table after LAB_PRICES_FILE changed. */
export function resetPriceTable(): void {
  table = undefined;
}
