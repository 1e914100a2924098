/**
 * Which sandbox host this worker is: the name of the queue that reaches exactly the workspaces on
 * this disk. Stable across restarts (a restarted worker picks up the runs whose workspaces it holds);
 * two workers on one machine with different workspace folders are two hosts.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { sandboxHostQueue } from '../../common/queues.js';
import { workspaceRoot } from '../config.js';

export function sandboxHostId(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.LAB_SANDBOX_HOST_ID?.trim();
  if (given) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(given)) throw new Error(`LAB_SANDBOX_HOST_ID must be 1-100 letters, digits, dots, dashes or underscores, got "${given}"`);
    return given;
  }
  const host = os.hostname().replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'host';
  return `${host}-${createHash('sha256').update(workspaceRoot()).digest('hex').slice(0, 8)}`;
}

export function createSandboxHostActivities(env: NodeJS.ProcessEnv = process.env) {
  return {
    /** Answered by any sandbox worker: the queue of its own host, where the run's workspace will be. */
    async claimSandboxHost(): Promise<string> {
      return sandboxHostQueue(sandboxHostId(env));
    },
    /** Answered only on this host's probe queue: that a worker of the host is running. */
    async sandboxHostAlive(): Promise<string> {
      return sandboxHostId(env);
    },
  };
}

export type SandboxHostActivities = ReturnType<typeof createSandboxHostActivities>;
