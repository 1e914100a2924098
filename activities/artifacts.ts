/**
 * The artifact store: what activities and the CLI may assume about it, whichever backend holds
 * the bytes (a local folder, or an S3-compatible bucket shared by workers on other hosts).
 *
 * Content is addressed by sha256; each run also gets a readable copy under `runs/<runId>/<name>`
 * so people can open `idea.md` directly. History only ever holds the returned {@link ArtifactRef},
 * whose `path` is relative to the store, so no machine path or bucket leaks into history.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isValidRunId, RUN_ID_RULE } from '../common/runIds.js';
import type { ArtifactRef } from '../common/schemas.js';

export class ArtifactIntegrityError extends Error {}

/** The content an {@link ArtifactRef} names is not in the store (deleted, or another store). */
export class ArtifactMissingError extends Error {
  readonly code = 'ENOENT';
}

export interface ArtifactStore {
  /** Where the store is, for messages: a folder, or `s3://bucket/prefix`. */
  readonly location: string;
  /** Stores `content` once by its sha256 and as `runs/<runId>/<name>`; the same call twice writes the same objects. */
  put(runId: string, name: string, content: string | Buffer, mediaType?: string): Promise<ArtifactRef>;
  /**
   * Gives `runId` a readable copy of an artifact another run wrote (a resumed run reuses its
   * predecessor's stages), under the same name it had there. The content is verified first.
   */
  copyToRun(runId: string, ref: ArtifactRef): Promise<ArtifactRef>;
  /** Stores content by its sha256 only, with no readable copy (uploads); returns the sha256. */
  putContent(content: Buffer): Promise<string>;
  /** Reads an artifact by its content address and checks the bytes still match. */
  get(ref: ArtifactRef): Promise<Buffer>;
  getText(ref: ArtifactRef): Promise<string>;
  /** A run's readable copy by name (`paper.md`, `results/metrics.csv`), or undefined when it has none. */
  readRunFile(runId: string, name: string): Promise<Buffer | undefined>;
  /** A run's readable copies (names relative to its folder), sorted by name. */
  listRun(runId: string): Promise<RunFile[]>;
  /** Where a person opens an artifact: a file path, or an `s3://` URL. */
  locate(ref: ArtifactRef): string;
  /** Where a person finds a run's readable copies. */
  locateRun(runId: string): string;
}

export interface RunFile {
  name: string;
  bytes: number;
  /** When it was last written (ms since the epoch), to order attempts and steps by time. */
  modifiedMs: number;
}

/** `runs/<runId>/<name>`, refused unless every part is a plain name and the result stays inside the run's folder. */
export function readableKey(runId: string, name: string): string {
  assertValidRunId(runId);
  const parts = name.split('/');
  for (const part of parts) {
    if (!isPlainSegment(part)) throw new Error(`invalid artifact name: ${JSON.stringify(name)}`);
  }
  const readable = path.posix.join('runs', runId, ...parts);
  if (!readable.startsWith(`runs/${runId}/`)) throw new Error(`artifact name escapes its run folder: ${JSON.stringify(name)}`);
  return readable;
}

/** The name a ref had inside its run's folder (`runs/<id>/results/a.csv` → `results/a.csv`). */
export function nameInRun(ref: ArtifactRef): string {
  return ref.path.split('/').slice(2).join('/');
}

export function sha256Of(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

export function refOf(runId: string, name: string, body: Buffer, mediaType: string): ArtifactRef {
  const sha256 = sha256Of(body);
  return { uri: `artifact:sha256/${sha256}`, sha256, bytes: body.length, path: readableKey(runId, name), mediaType };
}

/** Throws {@link ArtifactIntegrityError} unless `body` is what `ref` names. */
export function verified(ref: ArtifactRef, body: Buffer): Buffer {
  const actual = sha256Of(body);
  if (actual !== ref.sha256) throw new ArtifactIntegrityError(`artifact ${ref.path} is corrupt (sha256 ${actual}, expected ${ref.sha256})`);
  return body;
}

export function toBuffer(content: string | Buffer): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

const SEGMENT = /^[A-Za-z0-9._-][A-Za-z0-9 ._+-]{0,199}$/;

function isPlainSegment(part: string): boolean {
  return SEGMENT.test(part) && part !== '.' && part !== '..';
}

/** Whether {@link ArtifactStore.put} takes `name` as it is. */
export function isPlainArtifactName(name: string): boolean {
  return name.split('/').every(isPlainSegment);
}

/**
 * `name` with each part `put` would refuse (and its last part too when `always`) (a file the experiment's code named `dev(1).csv`, or
 * with a newline) made storable: the safe characters kept, each run of others as "_", and the
 * start of the original part's sha256 before a plain extension, so `results/dev(1).csv` becomes
 * `results/dev_1_-x<10 hex>.csv` (`tag`, if given, goes after the hash). The same name always gives
 * the same result; two names give the same one only if their hashes' first `hashChars` digits agree
 * (callers that must be sure check).
 */
export function plainArtifactName(name: string, options: { hashChars?: number; always?: boolean; tag?: string } = {}): string {
  const parts = name.split('/');
  return parts
    .map((part, i) => {
      if (isPlainSegment(part) && !(options.always && i === parts.length - 1)) return part;
      const ext = /\.[A-Za-z0-9]{1,10}$/.exec(part)?.[0] ?? '';
      const stem = part.slice(0, part.length - ext.length).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
      const hash = createHash('sha256').update(part, 'utf8').digest('hex').slice(0, options.hashChars ?? 10);
      return `${stem}-x${hash}${options.tag ? `-${options.tag.replace(/[^A-Za-z0-9]/g, '')}` : ''}${ext}`;
    })
    .join('/');
}

export function assertValidRunId(runId: string): void {
  if (!isValidRunId(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}: ${RUN_ID_RULE}`);
}

