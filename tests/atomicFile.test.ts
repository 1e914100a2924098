import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFileAtomic, writeFileAtomic } from '../activities/atomicFile.js';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { tempDir } from './helpers/temporal.js';

describe('atomic file writes', () => {
  it('writes into place and leaves no temporary file beside it', async () => {
    const dir = tempDir('atomic');
    const file = path.join(dir, 'a', 'b', 'x.json');
    await writeFileAtomic(file, '{"n":1}');
    await writeFileAtomic(file, '{"n":2}');
    expect(readFileSync(file, 'utf8')).toBe('{"n":2}');
    expect(readdirSync(path.dirname(file))).toEqual(['x.json']);
  });

  it('makes a folder again when it was removed after the first write into it', async () => {
    const dir = tempDir('atomic');
    const folder = path.join(dir, 'runs', 'r1');
    await writeFileAtomic(path.join(folder, 'one.md'), 'one');
    rmSync(path.join(dir, 'runs'), { recursive: true });
    await writeFileAtomic(path.join(folder, 'two.md'), 'two');
    await copyFileAtomic(path.join(folder, 'two.md'), path.join(folder, 'three.md'));
    expect(readdirSync(folder).sort()).toEqual(['three.md', 'two.md']);
    expect(readFileSync(path.join(folder, 'three.md'), 'utf8')).toBe('two');
  });

  it('a write that cannot be renamed into place fails and removes its temporary file', async () => {
    const dir = tempDir('atomic');
    const target = path.join(dir, 'taken');
    mkdirSync(path.join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });

  it('a missing source is an error, not an empty copy', async () => {
    const dir = tempDir('atomic');
    await expect(copyFileAtomic(path.join(dir, 'nope'), path.join(dir, 'out', 'copy'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(path.join(dir, 'out'))).toEqual([]);
  });

  it('the local store still writes a run whose folder a user deleted while the worker ran', async () => {
    const store = new LocalArtifactStore(tempDir('store'));
    await store.put('run-a', 'idea.md', 'an idea');
    rmSync(store.runFolder('run-a'), { recursive: true });
    const ref = await store.put('run-a', 'proposal.md', 'a proposal');
    expect((await store.readRunFile('run-a', 'proposal.md'))?.toString()).toBe('a proposal');
    expect(await store.getText(ref)).toBe('a proposal');
    expect((await store.listRun('run-a')).map((f) => f.name)).toEqual(['proposal.md']);
  });
});
