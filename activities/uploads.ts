/**
 * Folders a person hands the CLI (`lab judge --dir`, `lab bench --judge-only --outputs`) travel to
 * the workers through the artifact store, not a shared disk: the CLI stores each file by content
 * and a manifest under `runs/<uploadId>/upload-manifest.json`; a worker rebuilds the folder from
 * the manifest in its own cache (once per manifest) and reads it there as before.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ArtifactRef } from '../common/schemas.js';
import { mapLimited } from '../common/mapLimited.js';
import type { ArtifactStore } from './artifacts.js';
import { SKIPPED_FOLDERS } from './judge/documents.js';

const manifestSchema = z.object({
  version: z.literal(1),
  /** The folder's name as the person gave it (for messages only; no machine path). */
  name: z.string(),
  files: z.array(z.object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() })),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});
export type UploadManifest = z.infer<typeof manifestSchema>;

export interface UploadLimits {
  /** Larger files (datasets, checkpoints) stay behind: reviews read documents, code and figures. */
  maxFileBytes: number;
  maxFiles: number;
  maxTotalBytes: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 20 * 1024 * 1024, maxFiles: 50_000, maxTotalBytes: 2 * 1024 * 1024 * 1024 };


export class UploadError extends Error {}

export interface UploadProgress {
  done: number;
  total: number;
  bytes: number;
}

export interface UploadResult {
  manifest: ArtifactRef;
  files: number;
  bytes: number;
  skipped: UploadManifest['skipped'];
}

/** Stores every plain file of `folder` (within the limits) and its manifest; storing the same folder again writes nothing new. */
export async function uploadFolder(
  store: ArtifactStore,
  uploadId: string,
  folder: string,
  options: { limits?: UploadLimits; onProgress?: (p: UploadProgress) => void; concurrency?: number } = {},
): Promise<UploadResult> {
  const limits = options.limits ?? DEFAULT_UPLOAD_LIMITS;
  const root = path.resolve(folder);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UploadError(`folder not found: ${folder}`);
  const { files, skipped } = await listFiles(root, limits);
  let done = 0;
  let bytes = 0;
  const stored = await mapLimited(files, options.concurrency ?? 8, async (file) => {
    const body = await fs.readFile(path.join(root, file.path));
    const sha256 = await store.putContent(body);
    done++;
    bytes += body.length;
    options.onProgress?.({ done, total: files.length, bytes });
    return { path: file.path, sha256, bytes: body.length };
  });
  const manifest: UploadManifest = { version: 1, name: path.basename(root), files: stored, skipped };
  const ref = await store.put(uploadId, 'upload-manifest.json', JSON.stringify(manifest, null, 1), 'application/json');
  return { manifest: ref, files: stored.length, bytes, skipped };
}

async function listFiles(root: string, limits: UploadLimits): Promise<{ files: { path: string; bytes: number }[]; skipped: UploadManifest['skipped'] }> {
  const files: { path: string; bytes: number }[] = [];
  const skipped: UploadManifest['skipped'] = [];
  let total = 0;
  const visit = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (SKIPPED_FOLDERS.has(e.name)) skipped.push({ path: child, reason: 'a folder no review reads' });
        else await visit(child);
      } else if (e.isFile()) {
        const { size } = await fs.stat(path.join(root, child));
        if (size > limits.maxFileBytes) skipped.push({ path: child, reason: `${size} bytes, over the ${limits.maxFileBytes}-byte limit per file` });
        else if (files.length >= limits.maxFiles) skipped.push({ path: child, reason: `over the ${limits.maxFiles}-file limit` });
        else if (total + size > limits.maxTotalBytes) skipped.push({ path: child, reason: `over the ${limits.maxTotalBytes}-byte limit in all` });
        else {
          files.push({ path: child, bytes: size });
          total += size;
        }
      }
      // Symbolic links and other special files are not followed: they may point outside the folder.
    }
  };
  await visit('');
  return { files, skipped };
}

/**
 * The uploaded folder on this worker: rebuilt under `cacheRoot/<manifest sha256>/` from the store
 * the first time (each file's content verified), then reused. A crash halfway leaves only a
 * temporary folder, which the next call replaces.
 */
export async function materializeUpload(store: ArtifactStore, manifestRef: ArtifactRef, cacheRoot: string): Promise<string> {
  const target = path.join(cacheRoot, manifestRef.sha256);
  // Reviews of one upload run side by side on a worker: they share one rebuild.
  let pending = rebuilding.get(target);
  if (!pending) {
    pending = rebuild(store, manifestRef, target).finally(() => rebuilding.delete(target));
    rebuilding.set(target, pending);
  }
  return pending;
}

const rebuilding = new Map<string, Promise<string>>();

async function rebuild(store: ArtifactStore, manifestRef: ArtifactRef, target: string): Promise<string> {
  if (await isComplete(target)) return target;
  const parsed = manifestSchema.safeParse(JSON.parse(await store.getText(manifestRef)));
  if (!parsed.success) throw new UploadError(`${manifestRef.path} is not an upload manifest: ${parsed.error.issues[0]?.message}`);
  const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.mkdir(tmp, { recursive: true });
  try {
    await mapLimited(parsed.data.files, 8, async (file) => {
      const dest = insideFolder(tmp, file.path);
      const body = await store.get({ uri: `artifact:sha256/${file.sha256}`, sha256: file.sha256, bytes: file.bytes, path: `${manifestRef.path}#${file.path}`, mediaType: 'application/octet-stream' });
      await fs.mkdir(path.dirname(dest), { recursive: true });
      await fs.writeFile(dest, body);
    });
    await fs.writeFile(path.join(tmp, '.complete'), '');
    // The folder only ever appears whole; another process that finished first has made the same one.
    await fs.rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
      if (!(await isComplete(target))) throw err;
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return target;
}

function isComplete(folder: string): Promise<boolean> {
  return fs.stat(path.join(folder, '.complete')).then(
    () => true,
    () => false,
  );
}

/** `rel` under `root`, refused if it would leave it (a manifest is data from another host). */
export function insideFolder(root: string, rel: string): string {
  if (rel === '.') return path.resolve(root);
  if (path.isAbsolute(rel) || rel.split('/').some((p) => p === '' || p === '.' || p === '..')) throw new UploadError(`"${rel}" is not a plain relative path`);
  const resolved = path.resolve(root, rel);
  if (resolved !== path.resolve(root) && !resolved.startsWith(path.resolve(root) + path.sep)) throw new UploadError(`"${rel}" leaves the uploaded folder`);
  return resolved;
}

