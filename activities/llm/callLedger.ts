/**
 * Every call a gateway makes inside one piece of work, a request that then failed included: the
 * gateway throws on a reply that stays invalid and its calls (made, and maybe paid for) would be lost.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LlmCall, LlmGateway } from './gateway.js';

const ledger = new AsyncLocalStorage<LlmCall[]>();
const listening = new WeakSet<object>();

/** Runs `work` with each call `llm` makes inside it (in this async context) appended to `calls`. */
export function recordingCalls<T>(llm: LlmGateway, calls: LlmCall[], work: () => Promise<T>): Promise<T> {
  if (!listening.has(llm) && typeof llm.onCall === 'function') {
    listening.add(llm);
    llm.onCall((call) => ledger.getStore()?.push(call));
  }
  return ledger.run(calls, work);
}
