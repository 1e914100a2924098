/** The CLI's view of the workers' artifact store: the one its environment names, read through its API only. */
import type { ArtifactStore } from '../../activities/artifacts.js';
import { openArtifactStore, StoreConfigError } from '../../activities/store/open.js';
import { randomBytes } from 'node:crypto';
import { uploadFolder, UploadError, type UploadResult } from '../../activities/uploads.js';
import { CliError } from './client.js';
import type { LocateArtifact } from './format.js';

/** The store named by LAB_S3_* (else the local folder); a bad setting is a usage error (exit 2). */
export function cliStore(env: NodeJS.ProcessEnv = process.env): ArtifactStore {
  try {
    return openArtifactStore(env);
  } catch (err) {
    if (err instanceof StoreConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

export function locator(store: ArtifactStore): LocateArtifact {
  return (ref) => store.locate(ref);
}

/**
 * Uploads a folder the user named (`--dir`, `--outputs`) into the store for the workers, with a
 * progress line on a terminal and one summary line on stderr (none with --json).
 */
export async function uploadForWorkers(store: ArtifactStore, name: string, folder: string, quiet = false): Promise<UploadResult> {
  const uploadId = `${name.slice(0, 80)}.upload-${randomBytes(3).toString('hex')}`;
  const live = !quiet && process.stderr.isTTY;
  let result: UploadResult;
  try {
    result = await uploadFolder(store, uploadId, folder, {
      onProgress: live ? (p) => process.stderr.write(`\ruploading ${folder}: ${p.done}/${p.total} files, ${megabytes(p.bytes)}`) : undefined,
    });
  } catch (err) {
    if (err instanceof UploadError) throw new CliError(err.message, 2);
    throw err;
  } finally {
    if (live) process.stderr.write('\n');
  }
  if (!quiet) {
    const skipped = result.skipped.length ? `; left out ${result.skipped.length} (${result.skipped.slice(0, 3).map((s) => `${s.path}: ${s.reason}`).join('; ')}${result.skipped.length > 3 ? '; ...' : ''})` : '';
    process.stderr.write(`uploaded ${folder} for the workers: ${result.files} files, ${megabytes(result.bytes)} to ${store.location}${skipped}\n`);
  }
  return result;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
