/**
 * Which artifact store this process uses, from its environment: the local folder
 * (`LAB_ARTIFACT_DIR`, default `<LAB_HOME>/artifacts`) unless `LAB_S3_BUCKET` names a bucket.
 * Every worker, and the CLI, of one deployment must name the same store.
 */
import type { ArtifactStore } from '../artifacts.js';
import { artifactRoot } from '../config.js';
import { LocalArtifactStore } from './localStore.js';
import { S3ArtifactStore, type S3StoreSettings } from './s3Store.js';

export class StoreConfigError extends Error {}

/** The S3 settings in `env`, or undefined when the store is local. Credentials come from the AWS SDK's own variables. */
export function s3SettingsFrom(env: NodeJS.ProcessEnv = process.env): S3StoreSettings | undefined {
  const kind = env.LAB_STORE?.trim().toLowerCase();
  if (kind && kind !== 's3' && kind !== 'local') throw new StoreConfigError(`LAB_STORE must be "local" or "s3", got "${env.LAB_STORE}"`);
  if (kind === 'local') return undefined;
  const bucket = env.LAB_S3_BUCKET?.trim();
  if (!bucket) {
    if (kind === 's3') throw new StoreConfigError('LAB_STORE=s3 needs LAB_S3_BUCKET (and LAB_S3_ENDPOINT for a server other than AWS S3)');
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new StoreConfigError(`LAB_S3_BUCKET "${bucket}" is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`);
  const endpoint = env.LAB_S3_ENDPOINT?.trim() || undefined;
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new StoreConfigError(`LAB_S3_ENDPOINT "${endpoint}" is not a URL (e.g. http://127.0.0.1:7070)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StoreConfigError(`LAB_S3_ENDPOINT must be an http(s) URL, got "${endpoint}"`);
  }
  const pathStyle = env.LAB_S3_PATH_STYLE?.trim();
  if (pathStyle && !['0', '1', 'true', 'false'].includes(pathStyle)) throw new StoreConfigError(`LAB_S3_PATH_STYLE must be 1 or 0, got "${pathStyle}"`);
  // The AWS SDK's own chain (profiles, roles) when no keys are given here; keys from the same env otherwise.
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) throw new StoreConfigError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: one is set without the other');
  return {
    bucket,
    prefix: env.LAB_S3_PREFIX?.trim() || undefined,
    endpoint,
    region: env.LAB_S3_REGION?.trim() || env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined,
    ...(pathStyle ? { forcePathStyle: pathStyle === '1' || pathStyle === 'true' } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
      : {}),
  };
}

export function openArtifactStore(env: NodeJS.ProcessEnv = process.env): ArtifactStore {
  const s3 = s3SettingsFrom(env);
  return s3 ? new S3ArtifactStore(s3) : new LocalArtifactStore(artifactRoot(env));
}
