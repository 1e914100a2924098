/** Recording workflow histories as the replay test's fixtures (tests/fixtures, `LAB_RECORD_HISTORIES=1`). */
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../scripts/lib/paths.js';

/**
 * A history as fixture JSON with no machine path: the test's temp folder (`tempFolder`, named
 * `stand-in` in the file) and the checkout are renamed, in payloads (base64 JSON) too; failures
 * recorded in a history carry stack traces with the checkout's path.
 */
export function fixtureJson(history: Parameters<typeof historyToJSON>[0], tempFolder: string, standIn: string): string {
  const scrub = (text: string) => text.split(tempFolder).join(standIn).split(PROJECT_ROOT).join('/lab');
  const scrubPayload = (base64: string) => {
    const text = Buffer.from(base64, 'base64').toString('utf8');
    return text.includes(tempFolder) || text.includes(PROJECT_ROOT) ? Buffer.from(scrub(text)).toString('base64') : base64;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'data' && typeof x === 'string' ? scrubPayload(x) : walk(x)]));
    }
    return typeof v === 'string' ? scrub(v) : v;
  };
  return JSON.stringify(walk(JSON.parse(historyToJSON(history))));
}
