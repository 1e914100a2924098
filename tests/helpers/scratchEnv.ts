/**
 * A test file's own folders under one temporary root: the named LAB_* variables point into it for
 * the file's tests and are restored afterwards; the root is removed with rm(1), which walks by
 * descriptors (a test may leave a tree deeper than PATH_MAX). Call at the top level of a test file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { LocalArtifactStore } from '../../activities/store/localStore.js';
import { tempDir } from './temporal.js';

export interface ScratchEnv {
  /** The temporary root (set in beforeAll). */
  readonly root: string;
  /** An artifact store under the root. */
  readonly store: LocalArtifactStore;
}

/** `vars`: variable name → folder under the root (created), e.g. { LAB_WORKSPACE_DIR: 'workspaces' }. */
export function useScratchEnv(prefix: string, vars: Record<string, string>): ScratchEnv {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const state: { root?: string; store?: LocalArtifactStore } = {};
  beforeAll(() => {
    state.root = tempDir(prefix);
    for (const [name, rel] of Object.entries(vars)) {
      process.env[name] = path.join(state.root, rel);
      mkdirSync(process.env[name]!, { recursive: true });
    }
    state.store = new LocalArtifactStore(path.join(state.root, 'artifacts'));
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (state.root) execFileSync('rm', ['-rf', '--', state.root]);
  });
  return {
    get root() {
      return state.root!;
    },
    get store() {
      return state.store!;
    },
  };
}
