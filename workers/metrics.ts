/**
 * `LAB_METRICS_ADDRESS` (or `lab worker --metrics`): where the worker serves its SDK runtime metrics
 * for Prometheus (`http://<address>/metrics`): task slots, schedule-to-start latencies, workflow task
 * and activity failures, per task queue. Unset: no metrics endpoint.
 */
import net from 'node:net';
import { SettingError } from './temporalConfig.js';

/**
 * The bind address as the SDK core takes it (an IP and a port; `localhost` becomes 127.0.0.1), or
 * undefined when unset. `setting` names where it came from in the error.
 */
export function metricsBindAddress(raw: string | undefined, setting = 'LAB_METRICS_ADDRESS'): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? (m[2] === 'localhost' ? '127.0.0.1' : m[2])) : '';
  if (!m || !net.isIP(host) || port < 1 || port > 65535)
    throw new SettingError(`${setting} must be ip:port (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for other hosts to scrape), got "${raw}"`);
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
