/**
 * A run's readable files as digests, read through the artifact store's own API (so the same code
 * reads the local folder or an S3 bucket), for comparing two runs file by file.
 */
import { createHash } from 'node:crypto';
import type { ArtifactStore } from '../../activities/artifacts.js';

/** sha256 of each readable file of `runId`, by its name in the run's folder; `mask` rewrites chosen files first. */
export async function runFileDigests(
  store: ArtifactStore,
  runId: string,
  mask?: (name: string, body: Buffer) => Buffer | undefined,
): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const { name } of await store.listRun(runId)) {
    const body = await store.readRunFile(runId, name);
    if (!body) throw new Error(`${name} of run ${runId} is listed but cannot be read`);
    digests.set(name, createHash('sha256').update(mask?.(name, body) ?? body).digest('hex'));
  }
  return digests;
}

/** Names whose digests differ, and names only one side has. */
export function digestDifferences(expected: Map<string, string>, actual: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [name, sha] of expected) {
    if (!actual.has(name)) out.push(`${name}: missing`);
    else if (actual.get(name) !== sha) out.push(`${name}: sha256 ${actual.get(name)!.slice(0, 12)} instead of ${sha.slice(0, 12)}`);
  }
  for (const name of actual.keys()) if (!expected.has(name)) out.push(`${name}: not in the reference`);
  return out;
}
