/**
 * The artifact store's contract, held by both backends: the local folder, and the S3 store against
 * a real S3-compatible server (the Versity S3 Gateway as a child process on 127.0.0.1).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactIntegrityError, ArtifactMissingError, type ArtifactStore } from '../activities/artifacts.js';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { openArtifactStore, s3SettingsFrom, StoreConfigError } from '../activities/store/open.js';
import { S3ArtifactStore } from '../activities/store/s3Store.js';
import { storeCallCache } from '../activities/llm/callCache.js';
import { LlmGateway } from '../activities/llm/gateway.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { startS3Server, type S3TestServer } from './helpers/s3Server.js';
import { tempDir } from './helpers/temporal.js';

let s3: S3TestServer;
const dir = tempDir('s3store');

beforeAll(async () => {
  s3 = await startS3Server(dir);
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});

function s3Store(prefix?: string): S3ArtifactStore {
  return new S3ArtifactStore({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    prefix,
    credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID!, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY! },
  });
}

/** Where each backend keeps a stored object's bytes on disk, so a test can corrupt it behind the store's back. */
const backends: { name: string; open: () => ArtifactStore; objectFile: (store: ArtifactStore, sha: string) => string }[] = [
  {
    name: 'local folder',
    open: () => new LocalArtifactStore(path.join(dir, 'local')),
    objectFile: (_store, sha) => path.join(dir, 'local', 'objects', 'sha256', sha.slice(0, 2), sha),
  },
  {
    name: 'S3 (Versity S3 Gateway)',
    open: () => s3Store('team-a'),
    objectFile: (_store, sha) => path.join(s3.dataDir, s3.bucket, 'team-a', 'objects', 'sha256', sha.slice(0, 2), sha),
  },
];

describe.each(backends)('artifact store contract: $name', ({ open, objectFile }) => {
  it('stores by content, reads back verified, keeps a readable copy per run, and lists a run', async () => {
    const store = open();
    const ref = await store.put('run-a', 'idea.md', '# An idea\n');
    expect(ref).toMatchObject({ path: 'runs/run-a/idea.md', bytes: 10, mediaType: 'text/markdown' });
    expect(ref.uri).toBe(`artifact:sha256/${ref.sha256}`);
    expect(await store.getText(ref)).toBe('# An idea\n');
    await store.put('run-a', 'results/metrics.csv', 'model,acc\na,0.9\n', 'text/csv');
    const listed = await store.listRun('run-a');
    expect(listed.map((f) => [f.name, f.bytes])).toEqual([['idea.md', 10], ['results/metrics.csv', 16]]);
    expect(Math.abs(listed[0].modifiedMs - Date.now())).toBeLessThan(60_000);
    expect((await store.readRunFile('run-a', 'results/metrics.csv'))?.toString()).toBe('model,acc\na,0.9\n');
    expect(await store.readRunFile('run-a', 'paper.md')).toBeUndefined();
    expect(await store.listRun('run-never')).toEqual([]);
    expect(store.locate(ref)).toMatch(/runs\/run-a\/idea\.md$/);
  });

  it('writes idempotently: the same put twice gives the same ref, and a copy to another run verifies the content first', async () => {
    const store = open();
    const first = await store.put('run-b', 'paper.md', 'same bytes');
    const again = await store.put('run-b', 'paper.md', 'same bytes');
    expect(again).toEqual(first);
    const copy = await store.copyToRun('run-c', first);
    expect(copy).toEqual({ ...first, path: 'runs/run-c/paper.md' });
    expect((await store.readRunFile('run-c', 'paper.md'))?.toString()).toBe('same bytes');
  });

  it('refuses corrupt content and says when content is missing', async () => {
    const store = open();
    const ref = await store.put('run-d', 'proposal.md', 'the original text');
    await fs.writeFile(objectFile(store, ref.sha256), 'tampered text');
    await expect(store.get(ref)).rejects.toThrow(ArtifactIntegrityError);
    const missing = { ...ref, sha256: 'f'.repeat(64), uri: `artifact:sha256/${'f'.repeat(64)}` };
    const err = await store.get(missing).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('refuses names and run ids that would escape the run folder', async () => {
    const store = open();
    await expect(store.put('run-e', '../other/idea.md', 'x')).rejects.toThrow(/invalid artifact name/);
    await expect(store.put('../run-e', 'idea.md', 'x')).rejects.toThrow(/invalid run id/);
    await expect(store.readRunFile('run-e', '../../objects')).rejects.toThrow(/invalid artifact name/);
  });
});

describe('S3 store', () => {
  it('streams a large body up in parts and back, byte for byte', async () => {
    const store = s3Store('large');
    const body = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32LE(i, i);
    const ref = await store.put('run-big', 'results/big.bin', body, 'application/octet-stream');
    expect(ref.bytes).toBe(body.length);
    expect((await store.get(ref)).equals(body)).toBe(true);
  }, 60_000);

  it('keeps prefixes apart: one bucket serves two teams', async () => {
    const a = s3Store('team-x');
    const b = s3Store('team-y');
    await a.put('shared-id', 'idea.md', 'team x');
    expect(await b.readRunFile('shared-id', 'idea.md')).toBeUndefined();
    expect(a.locateRun('shared-id')).toBe(`s3://${s3.bucket}/team-x/runs/shared-id/`);
  });

  it('a content object lost from the bucket is reported missing, not as an empty artifact', async () => {
    const store = s3Store('lost');
    const ref = await store.put('run-lost', 'idea.md', 'soon gone');
    await fs.rm(path.join(s3.dataDir, s3.bucket, 'lost', 'objects', 'sha256', ref.sha256.slice(0, 2), ref.sha256));
    await expect(store.get(ref)).rejects.toThrow(ArtifactMissingError);
  });

  it('openArtifactStore picks S3 from the environment and round-trips through it', async () => {
    const store = openArtifactStore({ ...s3.env, LAB_S3_PREFIX: 'from-env' });
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.location).toBe(`s3://${s3.bucket}/from-env/`);
    const ref = await store.put('run-env', 'idea.md', 'via env');
    expect(await store.getText(ref)).toBe('via env');
    expect(openArtifactStore({ LAB_HOME: dir })).toBeInstanceOf(LocalArtifactStore);
  });

  it('a wrong secret is refused by the server with an error, not taken as a missing object', async () => {
    const store = new S3ArtifactStore({ bucket: s3.bucket, endpoint: s3.endpoint, credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID!, secretAccessKey: 'wrong' } });
    await expect(store.readRunFile('run-a', 'idea.md')).rejects.toThrow(/signature|denied|match/i);
  });
});

describe('LLM call cache in the store', () => {
  it('a call one host paid for is served to another host from the bucket, not asked again', async () => {
    const fake = await new FakeLlmServer(() => ({ text: 'a paid answer' })).start();
    try {
      const req = { model: `openai-compatible:paid@${fake.openaiBaseURL}`, prompt: 'Answer once.', maxTokens: 20, cacheKey: 'run-x/idea/0' };
      const first = await new LlmGateway({ env: {}, cache: storeCallCache(s3Store('cache')) }).complete(req);
      expect(first.calls[0].cached).toBe(false);
      // Another worker process on another host: its own gateway and store client, the same bucket.
      const second = await new LlmGateway({ env: {}, cache: storeCallCache(s3Store('cache')) }).complete(req);
      expect(second).toMatchObject({ text: 'a paid answer', calls: [{ cached: true }] });
      expect(fake.requests).toHaveLength(1);
      // Another prefix is another deployment: nothing shared.
      await new LlmGateway({ env: {}, cache: storeCallCache(s3Store('other-team')) }).complete(req);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await fake.stop();
    }
  });
});

describe('store settings', () => {
  it('bad settings are one-line errors naming the variable', () => {
    expect(() => s3SettingsFrom({ LAB_STORE: 's3' })).toThrow(/LAB_STORE=s3 needs LAB_S3_BUCKET/);
    expect(() => s3SettingsFrom({ LAB_STORE: 'nfs' })).toThrow(StoreConfigError);
    expect(() => s3SettingsFrom({ LAB_S3_BUCKET: 'Bad_Bucket' })).toThrow(/LAB_S3_BUCKET "Bad_Bucket" is not a valid bucket name/);
    expect(() => s3SettingsFrom({ LAB_S3_BUCKET: 'ok-bucket', LAB_S3_ENDPOINT: 'localhost:7070' })).toThrow(/LAB_S3_ENDPOINT .* (not a URL|http)/);
    expect(() => s3SettingsFrom({ LAB_S3_BUCKET: 'ok-bucket', LAB_S3_PATH_STYLE: 'yes' })).toThrow(/LAB_S3_PATH_STYLE/);
    expect(() => s3SettingsFrom({ LAB_S3_BUCKET: 'ok-bucket', AWS_ACCESS_KEY_ID: 'only-the-id' })).toThrow(/go together/);
    expect(s3SettingsFrom({ LAB_STORE: 'local', LAB_S3_BUCKET: 'ok-bucket' })).toBeUndefined();
    expect(s3SettingsFrom({ LAB_S3_BUCKET: 'ok-bucket', AWS_REGION: 'eu-west-1', LAB_S3_PREFIX: 'p' })).toEqual({
      bucket: 'ok-bucket',
      prefix: 'p',
      endpoint: undefined,
      region: 'eu-west-1',
    });
  });
});
