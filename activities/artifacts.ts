/**
 * Content-addressed artifact store on the local file system.
 *
 * Content lives once under `objects/sha256/<aa>/<hex>`; each run also gets a readable
 * copy under `runs/<runId>/<name>` so people can open `idea.md` directly. History only
 * ever holds the returned {@link ArtifactRef}; paths in it are relative to the store root,
 * so no machine path leaks into history.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isValidRunId, RUN_ID_RULE } from '../common/runIds.js';
import type { ArtifactRef } from '../common/schemas.js';

export class ArtifactIntegrityError extends Error {}

export class ArtifactStore {
  constructor(readonly root: string) {}

  async put(runId: string, name: string, content: string | Buffer, mediaType = 'text/markdown'): Promise<ArtifactRef> {
    const readable = this.readablePath(runId, name);
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const sha256 = createHash('sha256').update(body).digest('hex');
    const objectPath = this.objectPath(sha256);
    if (!(await exists(objectPath))) await writeAtomic(objectPath, body);
    await writeAtomic(path.join(this.root, readable), body);
    return { uri: `artifact:sha256/${sha256}`, sha256, bytes: body.length, path: readable, mediaType };
  }

  /**
   * Gives `runId` a readable copy of an artifact another run wrote (a resumed run reuses its
   * predecessor's stages), under the same name it had there. The content is verified first.
   */
  async copyToRun(runId: string, ref: ArtifactRef): Promise<ArtifactRef> {
    const name = ref.path.split('/').slice(2).join('/');
    return this.put(runId, name, await this.get(ref), ref.mediaType);
  }

  /** Reads an artifact by its content address and checks the bytes still match. */
  async get(ref: ArtifactRef): Promise<Buffer> {
    const body = await fs.readFile(this.objectPath(ref.sha256));
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== ref.sha256) throw new ArtifactIntegrityError(`artifact ${ref.path} is corrupt (sha256 ${actual}, expected ${ref.sha256})`);
    return body;
  }

  async getText(ref: ArtifactRef): Promise<string> {
    return (await this.get(ref)).toString('utf8');
  }

  /** Where a person finds the readable copy of an artifact. */
  localPath(ref: ArtifactRef): string {
    return path.join(this.root, ref.path);
  }

  runFolder(runId: string): string {
    assertValidRunId(runId);
    return path.join(this.root, 'runs', runId);
  }

  /** `runs/<runId>/<name>`, refused unless every part is a plain name and the result stays inside the store. */
  private readablePath(runId: string, name: string): string {
    assertValidRunId(runId);
    const parts = name.split('/');
    for (const part of parts) {
      if (!SEGMENT.test(part) || part === '.' || part === '..') throw new Error(`invalid artifact name: ${JSON.stringify(name)}`);
    }
    const readable = path.posix.join('runs', runId, ...parts);
    const runFolder = path.resolve(this.root, 'runs', runId);
    if (!path.resolve(this.root, readable).startsWith(runFolder + path.sep)) throw new Error(`artifact name escapes its run folder: ${JSON.stringify(name)}`);
    return readable;
  }

  private objectPath(sha256: string): string {
    return path.join(this.root, 'objects', 'sha256', sha256.slice(0, 2), sha256);
  }
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

function assertValidRunId(runId: string): void {
  if (!isValidRunId(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}: ${RUN_ID_RULE}`);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Write to a temp file then rename, so a crash never leaves a half-written artifact. */
async function writeAtomic(file: string, body: Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(tmp, body);
  await fs.rename(tmp, file);
}
