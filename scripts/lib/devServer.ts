/**
 * The local Temporal dev server: the Temporal CLI from .venv with a SQLite file for
 * persistence, the Web UI, and Durable Lab's search attributes registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LAB_SEARCH_ATTRIBUTES } from '../../common/searchAttributes.js';
import { temporalBinary } from './paths.js';

export interface DevServerOptions {
  port: number;
  uiPort: number;
  dbFile: string;
  /** Where the server's output goes; 'inherit' shows it in the terminal. */
  logFile?: string;
  headless?: boolean;
}

export function devServerArgs(o: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--db-filename', o.dbFile, '--port', String(o.port), '--log-level', 'warn'];
  if (o.headless) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  for (const key of LAB_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  return args;
}

export function spawnDevServer(o: DevServerOptions, opts: { detached?: boolean } = {}): ChildProcess {
  const bin = temporalBinary();
  if (!existsSync(bin)) throw new Error(`Temporal CLI not found at ${bin}; run \`npm run setup\` first`);
  mkdirSync(path.dirname(path.resolve(o.dbFile)), { recursive: true });
  const out = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  return spawn(bin, devServerArgs(o), { stdio: ['ignore', out, out], detached: opts.detached ?? false });
}

/** True once something accepts TCP connections on host:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the Temporal server exited early (code ${child.exitCode})`);
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Temporal server did not open port ${port} within ${timeoutMs / 1000}s`);
}
