/**
 * The sandbox: runs experiment commands in a run's workspace under limits. The backend comes from
 * `LAB_SANDBOX`: `bwrap` (default, bubblewrap), `docker`, or `unsafe-process` (no isolation).
 * See docs/environment.md.
 */
import { BubblewrapBackend } from './bubblewrap.js';
import { DockerBackend } from './docker.js';
import { UnsafeProcessBackend, UNSAFE_WARNING } from './unsafeProcess.js';
import { SandboxConfigError, type SandboxBackend, type SandboxBackendName } from './types.js';

export * from './types.js';
export { BubblewrapBackend, bubblewrapArgs, BWRAP_MISSING } from './bubblewrap.js';
export { DockerBackend, dockerRunArgs, DEFAULT_SANDBOX_IMAGE, imageBundledDataFolders } from './docker.js';
export { UnsafeProcessBackend, UNSAFE_WARNING } from './unsafeProcess.js';

export const SANDBOX_BACKENDS: SandboxBackendName[] = ['bwrap', 'docker', 'unsafe-process'];

/**
 * The backend `LAB_SANDBOX` names. Cheap (nothing is started); a missing bwrap or an unknown name
 * shows at the first command and in preflight, so workers that never serve the sandbox queue start.
 * The unsafe backend says so on stderr here, at worker start.
 */
export function sandboxBackendFromEnv(env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): SandboxBackend {
  const name = (env.LAB_SANDBOX ?? '').trim() || 'bwrap';
  switch (name) {
    case 'bwrap':
    case 'bubblewrap':
      return new BubblewrapBackend(env);
    case 'docker':
      return new DockerBackend(env);
    case 'unsafe-process':
      warn(UNSAFE_WARNING);
      return new UnsafeProcessBackend(env);
    default:
      return new MisconfiguredBackend(`LAB_SANDBOX must be one of ${SANDBOX_BACKENDS.join(', ')} (got "${name}")`);
  }
}

class MisconfiguredBackend implements SandboxBackend {
  readonly name = 'bwrap' as const;
  readonly isolated = false;
  constructor(private readonly problem: string) {}
  async exec(): Promise<never> {
    throw new SandboxConfigError(this.problem);
  }
  async preflight(): Promise<string[]> {
    return [`sandbox: ${this.problem}`];
  }
}
