/** The sandbox Python (`.venv-sandbox/`): where it is and which host folders it needs to run. */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { sandboxVenvDir } from '../config.js';
import { SandboxConfigError } from './types.js';

export const SANDBOX_PYTHON_PACKAGES = ['numpy', 'pandas', 'sklearn', 'scipy', 'matplotlib'] as const;

export interface SandboxPython {
  /** The venv folder on the host. */
  venv: string;
  /**
   * The base interpreter's installation folders the venv points into (pyvenv.cfg `home`, the
   * interpreter's real path). They are bound read-only at the same path, since the venv names them.
   */
  basePrefixes: string[];
}

const MISSING = (venv: string) => `the sandbox Python is missing (${venv}): run \`npm run setup\` (creates .venv-sandbox) or set LAB_SANDBOX_VENV`;

export function sandboxPython(venv = sandboxVenvDir()): SandboxPython {
  const cfgFile = path.join(venv, 'pyvenv.cfg');
  if (!existsSync(cfgFile) || !existsSync(path.join(venv, 'bin', 'python'))) throw new SandboxConfigError(MISSING(venv));
  const home = /^home\s*=\s*(.+)$/m.exec(readFileSync(cfgFile, 'utf8'))?.[1]?.trim();
  const prefixes = new Set<string>();
  if (home) prefixes.add(path.dirname(safeRealpath(home)));
  const interpreter = safeRealpath(path.join(venv, 'bin', 'python'));
  prefixes.add(path.dirname(path.dirname(interpreter)));
  return { venv: realpathSync(venv), basePrefixes: minimalRoots([...prefixes]) };
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Drops folders inside another listed folder. */
function minimalRoots(dirs: string[]): string[] {
  const sorted = [...new Set(dirs)].sort((a, b) => a.length - b.length);
  return sorted.filter((d, i) => !sorted.slice(0, i).some((p) => d === p || d.startsWith(p + path.sep)));
}
