/**
 * Links into the Temporal Web UI. The address follows how the server was started: `LAB_UI_URL`
 * if set; else the UI port `lab server` recorded; else the dev server's default (server port + 1000)
 * for a local server, or Temporal Cloud's UI when an API key is in use.
 */
import { serverStateFile } from '../../activities/config.js';
import { temporalTarget } from '../../workers/env.js';
import { readServerState } from './devServer.js';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);

export function uiBaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LAB_UI_URL) return env.LAB_UI_URL.replace(/\/+$/, '');
  const target = temporalTarget(env);
  const colon = target.address.lastIndexOf(':');
  const host = colon > 0 ? target.address.slice(0, colon) : target.address;
  const port = colon > 0 ? Number(target.address.slice(colon + 1)) : 7233;
  if (LOCAL_HOSTS.has(host)) {
    const state = readServerState(serverStateFile(env));
    if (state && state.port === port) return state.uiUrl ?? undefined;
    return `http://localhost:${port + 1000}`;
  }
  if (target.apiKey || host.endsWith('.tmprl.cloud')) return 'https://cloud.temporal.io';
  return undefined;
}

/** The run's page in the UI, or a hint when no UI address is known. */
export function runLink(runId: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = uiBaseUrl(env);
  if (!base) return '(no Web UI address known; set LAB_UI_URL to print links)';
  return `${base}/namespaces/${encodeURIComponent(temporalTarget(env).namespace)}/workflows/${encodeURIComponent(runId)}`;
}
