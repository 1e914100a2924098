/**
 * Folders the CLI hands to workers on other hosts go through the store: uploaded on one side,
 * rebuilt on the other from a manifest, against a real S3 server. Links out of the folder, bulky
 * files and hostile manifests do not travel.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../activities/store/s3Store.js';
import { insideFolder, materializeUpload, uploadFolder, UploadError } from '../activities/uploads.js';
import { startS3Server, type S3TestServer } from './helpers/s3Server.js';
import { tempDir } from './helpers/temporal.js';

const dir = tempDir('uploads');
let s3: S3TestServer;
const open = () =>
  new S3ArtifactStore({ bucket: s3.bucket, endpoint: s3.endpoint, credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID!, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY! } });

beforeAll(async () => {
  s3 = await startS3Server(dir);
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});

function outputsFolder(): string {
  const folder = path.join(dir, 'cli-host', 'end2end_agent');
  mkdirSync(path.join(folder, 'task-a', 'results'), { recursive: true });
  mkdirSync(path.join(folder, 'task-a', '.git'), { recursive: true });
  writeFileSync(path.join(folder, 'task-a', 'idea.md'), '# Idea\n');
  writeFileSync(path.join(folder, 'task-a', 'results', 'paper.md'), '# Paper\naccuracy 0.91\n');
  writeFileSync(path.join(folder, 'task-a', 'results', 'weights.bin'), Buffer.alloc(3000));
  writeFileSync(path.join(folder, 'task-a', '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(path.join(dir, 'secret.txt'), 'not for the workers');
  symlinkSync(path.join(dir, 'secret.txt'), path.join(folder, 'task-a', 'link-out.txt'));
  return folder;
}

describe('a folder through the store', () => {
  it('is rebuilt on another host as it was, less what never travels, and a second upload writes the same manifest', async () => {
    const folder = outputsFolder();
    const progress: number[] = [];
    const cli = open();
    const limits = { maxFileBytes: 2000, maxFiles: 100, maxTotalBytes: 1_000_000 };
    const up = await uploadFolder(cli, 'outputs.upload-1', folder, { limits, onProgress: (p) => progress.push(p.done) });
    expect(up.files).toBe(2);
    expect(progress.at(-1)).toBe(2);
    expect(up.skipped.map((s) => s.path).sort()).toEqual(['task-a/.git', 'task-a/results/weights.bin']);

    const worker = open();
    const cache = path.join(dir, 'worker-host', 'uploads');
    const [rebuilt, again] = await Promise.all([materializeUpload(worker, up.manifest, cache), materializeUpload(worker, up.manifest, cache)]);
    expect(again).toBe(rebuilt);
    expect(readFileSync(path.join(rebuilt, 'task-a', 'results', 'paper.md'), 'utf8')).toBe('# Paper\naccuracy 0.91\n');
    expect(readFileSync(path.join(rebuilt, 'task-a', 'idea.md'), 'utf8')).toBe('# Idea\n');
    expect(existsSync(path.join(rebuilt, 'task-a', 'link-out.txt'))).toBe(false);
    expect(existsSync(path.join(rebuilt, 'task-a', 'results', 'weights.bin'))).toBe(false);

    const second = await uploadFolder(cli, 'outputs.upload-2', folder, { limits });
    expect(second.manifest.sha256).toBe(up.manifest.sha256);
    expect(await materializeUpload(worker, second.manifest, cache)).toBe(rebuilt);
  });

  it('refuses a manifest whose paths leave the folder, and a missing folder', async () => {
    const store = open();
    const bad = await store.put('evil.upload-1', 'upload-manifest.json', JSON.stringify({ version: 1, name: 'x', files: [{ path: '../../escape.txt', sha256: 'a'.repeat(64), bytes: 1 }], skipped: [] }));
    await expect(materializeUpload(store, bad, path.join(dir, 'evil-cache'))).rejects.toThrow(UploadError);
    expect(existsSync(path.join(dir, 'escape.txt'))).toBe(false);
    expect(() => insideFolder('/tmp/x', '/etc/passwd')).toThrow(/not a plain relative path/);
    expect(insideFolder('/tmp/x', '.')).toBe('/tmp/x');
    await expect(uploadFolder(store, 'nothing.upload-1', path.join(dir, 'no-such-folder'))).rejects.toThrow(/folder not found/);
  });
});
