/**
 * The artifact store in a local folder: content once under `objects/sha256/<aa>/<hex>`, a readable
 * copy of each run's files under `runs/<runId>/`. Right for one machine, or hosts sharing a disk.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArtifactRef } from '../../common/schemas.js';
import { copyFileAtomic, writeFileAtomic } from '../atomicFile.js';
import { assertValidRunId, nameInRun, readableKey, refOf, sha256Of, toBuffer, verified, type ArtifactStore, type RunFile } from '../artifacts.js';

export class LocalArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  async put(runId: string, name: string, content: string | Buffer, mediaType = 'text/markdown'): Promise<ArtifactRef> {
    const body = toBuffer(content);
    const ref = refOf(runId, name, body, mediaType);
    await this.putContent(body);
    // The readable copy is copied from the object, a single file operation rather than three.
    await copyFileAtomic(this.objectPath(ref.sha256), path.join(this.root, ref.path));
    return ref;
  }

  async putContent(body: Buffer): Promise<string> {
    const sha256 = sha256Of(body);
    const objectPath = this.objectPath(sha256);
    if (!(await exists(objectPath))) await writeFileAtomic(objectPath, body);
    return sha256;
  }

  async copyToRun(runId: string, ref: ArtifactRef): Promise<ArtifactRef> {
    return this.put(runId, nameInRun(ref), await this.get(ref), ref.mediaType);
  }

  async get(ref: ArtifactRef): Promise<Buffer> {
    return verified(ref, await fs.readFile(this.objectPath(ref.sha256)));
  }

  async getText(ref: ArtifactRef): Promise<string> {
    return (await this.get(ref)).toString('utf8');
  }

  async readRunFile(runId: string, name: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(path.join(this.root, readableKey(runId, name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw err;
    }
  }

  async listRun(runId: string): Promise<RunFile[]> {
    const folder = this.runFolder(runId);
    const entries = await fs.readdir(folder, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const files = await Promise.all(
      entries
        .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
        .map(async (e): Promise<RunFile | undefined> => {
          const file = path.join(e.parentPath, e.name);
          // A file removed between the listing and the stat is simply not listed.
          const stat = await fs.stat(file).catch(() => undefined);
          return stat && { name: path.relative(folder, file).split(path.sep).join('/'), bytes: stat.size, modifiedMs: stat.mtimeMs };
        }),
    );
    return files.filter((f): f is RunFile => Boolean(f)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  locate(ref: ArtifactRef): string {
    return path.join(this.root, ref.path);
  }

  /** The readable copy's path on this disk. */
  localPath(ref: ArtifactRef): string {
    return this.locate(ref);
  }

  locateRun(runId: string): string {
    return this.runFolder(runId);
  }

  /** The run's folder on this disk (tools that walk a folder, like `lab check`, read it directly). */
  runFolder(runId: string): string {
    assertValidRunId(runId);
    return path.join(this.root, 'runs', runId);
  }

  private objectPath(sha256: string): string {
    return path.join(this.root, 'objects', 'sha256', sha256.slice(0, 2), sha256);
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
