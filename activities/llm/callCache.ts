/**
 * Finished LLM calls by the digest of their request, so a retried activity never pays twice. In a
 * folder on the worker's host, or in the artifact store when hosts share nothing but the store: a
 * retry that lands on another LLM worker then finds the call the first one paid for.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../artifacts.js';
import { writeFileAtomic } from '../atomicFile.js';
import type { ProviderReply } from './provider.js';

export interface CallCache {
  read(digest: string): Promise<ProviderReply | undefined>;
  write(digest: string, reply: ProviderReply): Promise<void>;
}

/** `<dir>/<aa>/<digest>.json`, written atomically. */
export function folderCallCache(dir: string): CallCache {
  const file = (digest: string) => path.join(dir, digest.slice(0, 2), `${digest}.json`);
  return {
    async read(digest) {
      try {
        return JSON.parse(await fs.readFile(file(digest), 'utf8')) as ProviderReply;
      } catch {
        return undefined;
      }
    },
    async write(digest, reply) {
      await writeFileAtomic(file(digest), JSON.stringify(reply));
    },
  };
}

/** The store's own folder for finished calls (`runs/llm-call-cache/<aa>/<digest>.json`). */
export const STORE_CALL_CACHE_ID = 'llm-call-cache';

export function storeCallCache(store: ArtifactStore): CallCache {
  const name = (digest: string) => `${digest.slice(0, 2)}/${digest}.json`;
  return {
    async read(digest) {
      try {
        const body = await store.readRunFile(STORE_CALL_CACHE_ID, name(digest));
        return body ? (JSON.parse(body.toString('utf8')) as ProviderReply) : undefined;
      } catch {
        // An unreadable entry is a miss: the call is made again rather than the activity failing.
        return undefined;
      }
    },
    async write(digest, reply) {
      await store.put(STORE_CALL_CACHE_ID, name(digest), JSON.stringify(reply), 'application/json');
    },
  };
}
