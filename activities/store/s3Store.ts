/**
 * The artifact store in an S3-compatible bucket (AWS S3, or a server that speaks its API), so
 * workers on hosts that share no disk hand each other their artifacts. Same layout as the local
 * store under an optional key prefix: `objects/sha256/<aa>/<hex>` once per content, and
 * `runs/<runId>/<name>` as the readable copy. Every write is idempotent: a retried activity writes
 * the same bytes under the same keys.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArtifactRef } from '../../common/schemas.js';
import {
  ArtifactIntegrityError,
  ArtifactMissingError,
  assertValidRunId,
  nameInRun,
  readableKey,
  refOf,
  sha256Of,
  toBuffer,
  verified,
  type ArtifactStore,
  type RunFile,
} from '../artifacts.js';

export interface S3StoreSettings {
  bucket: string;
  /** Key prefix inside the bucket, e.g. `team-a/` (normalised to end in `/`). */
  prefix?: string;
  /** An S3-compatible server's URL; AWS's own endpoint when absent. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (`host/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Credentials; the AWS SDK's default chain (AWS_ACCESS_KEY_ID, profiles, roles) when absent. */
  credentials?: S3ClientConfig['credentials'];
}

/** Bodies up to this size go up in one request; larger ones stream in parts of this size. */
const PART_BYTES = 8 * 1024 * 1024;

export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(readonly settings: S3StoreSettings) {
    // The SDK warns on every process under Node 22 that its releases after January 2027 will need
    // Node 22; the locked version works on Node 20 (this project's floor), and the README says so.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.prefix = settings.prefix ? `${settings.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
    this.client = new S3Client({
      region: settings.region ?? 'us-east-1',
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle ?? Boolean(settings.endpoint),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // Retries with backoff for throttling and 5xx; a failure after them fails the activity, which Temporal retries.
      maxAttempts: 5,
    });
  }

  get location(): string {
    return `s3://${this.settings.bucket}/${this.prefix}`;
  }

  async put(runId: string, name: string, content: string | Buffer, mediaType = 'text/markdown'): Promise<ArtifactRef> {
    const body = toBuffer(content);
    const ref = refOf(runId, name, body, mediaType);
    await this.putContent(body, mediaType);
    await this.upload(this.key(ref.path), body, mediaType, ref.sha256);
    return ref;
  }

  async putContent(body: Buffer, mediaType = 'application/octet-stream'): Promise<string> {
    const sha256 = sha256Of(body);
    const objectKey = this.objectKey(sha256);
    if (!(await this.exists(objectKey))) await this.upload(objectKey, body, mediaType, sha256);
    return sha256;
  }

  async copyToRun(runId: string, ref: ArtifactRef): Promise<ArtifactRef> {
    return this.put(runId, nameInRun(ref), await this.get(ref), ref.mediaType);
  }

  async get(ref: ArtifactRef): Promise<Buffer> {
    const body = await this.download(this.objectKey(ref.sha256));
    if (!body) throw new ArtifactMissingError(`artifact ${ref.path} (sha256 ${ref.sha256}) is not in ${this.location}`);
    return verified(ref, body);
  }

  async getText(ref: ArtifactRef): Promise<string> {
    return (await this.get(ref)).toString('utf8');
  }

  async readRunFile(runId: string, name: string): Promise<Buffer | undefined> {
    return this.download(this.key(readableKey(runId, name)));
  }

  async listRun(runId: string): Promise<RunFile[]> {
    assertValidRunId(runId);
    const folder = this.key(`runs/${runId}/`);
    const files: RunFile[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: folder, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key) files.push({ name: object.Key.slice(folder.length), bytes: object.Size ?? 0, modifiedMs: object.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  locate(ref: ArtifactRef): string {
    return `s3://${this.settings.bucket}/${this.key(ref.path)}`;
  }

  locateRun(runId: string): string {
    assertValidRunId(runId);
    return `s3://${this.settings.bucket}/${this.key(`runs/${runId}/`)}`;
  }

  /** Closes the client's sockets (a CLI process would otherwise wait for them to time out). */
  close(): void {
    this.client.destroy();
  }

  private key(relative: string): string {
    return `${this.prefix}${relative}`;
  }

  private objectKey(sha256: string): string {
    return this.key(`objects/sha256/${sha256.slice(0, 2)}/${sha256}`);
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** One PUT for small bodies; a multipart upload streamed in {@link PART_BYTES} parts for large ones. */
  private async upload(key: string, body: Buffer, mediaType: string, sha256: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: key, Body: body, ContentType: mediaType, Metadata: { sha256 } },
      partSize: PART_BYTES,
      queueSize: 2,
    });
    await upload.done();
  }

  private async download(key: string): Promise<Buffer | undefined> {
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      if (!reply.Body) return Buffer.alloc(0);
      return Buffer.from(await reply.Body.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      // The SDK checks the server's stored checksum as it reads: bytes changed at rest fail there first.
      if (/checksum mismatch/i.test((err as Error).message)) throw new ArtifactIntegrityError(`${key} in ${this.location} is corrupt: ${(err as Error).message}`);
      throw err;
    }
  }
}

function isNotFound(err: unknown): boolean {
  if (err instanceof NoSuchKey || err instanceof NotFound) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status === 404;
}
