/**
 * Data secrets: the high-entropy key from which a competition's trusted prepare.py draws its data.
 * One per data key (a benchmark, or a run on its own), so every run of one benchmark sees the same
 * data while nothing inside a sandbox can regenerate it: the key lives beside the hidden splits,
 * outside every workspace, and only prepare.py's own sandboxed run is handed a copy.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isValidRunId, RUN_ID_RULE } from '../../common/runIds.js';
import { hiddenRoot } from './paths.js';

/** 256 bits: far past any search a method could run in its time limit. */
const SECRET_BYTES = 32;

export function secretsDir(): string {
  return path.join(hiddenRoot(), 'secrets');
}

/** The data key's secret as 64 hex digits, made on first use (concurrent first uses agree on one). */
export async function dataSecret(dataKey: string): Promise<string> {
  if (!isValidRunId(dataKey)) throw new Error(`invalid data key ${JSON.stringify(dataKey)}: ${RUN_ID_RULE}`);
  const dir = secretsDir();
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${dataKey}.key`);
  const fresh = randomBytes(SECRET_BYTES).toString('hex');
  try {
    await fs.writeFile(file, `${fresh}\n`, { flag: 'wx', mode: 0o600 });
    return fresh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Another attempt made it first: use theirs (a half-written file reads short and is waited for).
  for (let i = 0; i < 50; i += 1) {
    const text = (await fs.readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`data secret ${file} is not 64 hex digits: remove it to make a new one (the data of that key then change)`);
}
