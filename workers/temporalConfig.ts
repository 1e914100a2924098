/**
 * Where Temporal is and how to reach it, read the way the Temporal CLI and SDKs read it
 * (`@temporalio/envconfig`): a profile of a TOML config file (`TEMPORAL_CONFIG_FILE`, else
 * `~/.config/temporalio/temporal.toml`; `TEMPORAL_PROFILE`, else `default`), overridden by the
 * `TEMPORAL_*` variables (address, namespace, API key, TLS and its certificates, gRPC metadata).
 * With neither, the local dev server: localhost:7233, namespace `default`.
 *
 * A wrong setting is one line that names it (the variable, or the key and file it came from),
 * before any connection is tried: a typo must not turn into "cannot reach Temporal".
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadClientConfig, loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** A setting from the environment or a config file is wrong; the message names it. */
export class SettingError extends Error {
  override name = 'SettingError';
}

/** What a client or a worker connection needs; the same shape for `Connection` and `NativeConnection`. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: NonNullable<ReturnType<typeof toClientOptions>['connectionOptions']['tls']>;
  apiKey?: string;
  metadata?: ReturnType<typeof toClientOptions>['connectionOptions']['metadata'];
}

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Temporal Cloud API key; implies TLS unless TLS is turned off explicitly. Never logged. */
  apiKey?: string;
  tls: boolean;
  /** The config file profile these settings came from, when one was read. */
  profile?: { name: string; file: string };
  connection: TemporalConnectionOptions;
}

/** The config file the SDKs look for when TEMPORAL_CONFIG_FILE is unset (Linux: XDG config dir). */
export function defaultConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  if (process.platform === 'darwin') return env.HOME ? path.join(env.HOME, 'Library', 'Application Support', 'temporalio', 'temporal.toml') : undefined;
  const configDir = env.XDG_CONFIG_HOME ? (path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined) : env.HOME ? path.join(env.HOME, '.config') : undefined;
  return configDir ? path.join(configDir, 'temporalio', 'temporal.toml') : undefined;
}

/** TEMPORAL_* variables as the SDK reads them; an empty one counts as unset, as it always has here. */
function temporalVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('TEMPORAL_') && v !== undefined && v !== '') out[k] = v;
  return out;
}

const BOOLEAN_WORDS = new Set(['1', '0', 'true', 'false']);

/** The config file's text and where it is, or undefined when there is none to read. */
function readConfigFile(env: Record<string, string>, fullEnv: NodeJS.ProcessEnv): { file: string; text: string } | undefined {
  const named = env.TEMPORAL_CONFIG_FILE;
  const file = named ?? defaultConfigFile(fullEnv);
  if (!file) return undefined;
  if (!existsSync(file)) {
    if (named) throw new SettingError(`TEMPORAL_CONFIG_FILE: no such file ${named}`);
    return undefined;
  }
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new SettingError(`${named ? 'TEMPORAL_CONFIG_FILE ' : 'Temporal config file '}${file}: ${firstLine(err)}`);
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0].replace(/^Validation error: /, '');
}

/** `host:port` with a port of 1-65535; IPv6 hosts in brackets. */
export function validHostPort(value: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(value);
  return Boolean(m) && Number(m![2]) >= 1 && Number(m![2]) <= 65535;
}

/**
 * Reads the connection settings from `env` (and the config file it names). Throws a
 * {@link SettingError} naming the wrong setting.
 */
export function temporalTarget(fullEnv: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const env = temporalVariables(fullEnv);
  if (env.TEMPORAL_TLS !== undefined && !BOOLEAN_WORDS.has(env.TEMPORAL_TLS.toLowerCase()))
    throw new SettingError(`TEMPORAL_TLS must be true or false (or 1/0), got "${env.TEMPORAL_TLS}"`);
  if (env.TEMPORAL_TLS) env.TEMPORAL_TLS = env.TEMPORAL_TLS.toLowerCase();
  // The TypeScript SDK has no such option; connecting with host verification on would not be what was asked.
  if (env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION)
    throw new SettingError('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK; set TEMPORAL_TLS_SERVER_NAME or TEMPORAL_TLS_SERVER_CA_CERT_PATH instead');

  const config = readConfigFile(env, fullEnv);
  const profileName = env.TEMPORAL_PROFILE ?? 'default';
  let profile: ClientConfigProfile;
  if (config) {
    const where = `${env.TEMPORAL_CONFIG_FILE ? 'TEMPORAL_CONFIG_FILE ' : ''}${config.file}`;
    let profiles: string[];
    try {
      // Strict: a misspelt key in the file is an error, not a setting silently ignored.
      profiles = Object.keys(loadClientConfig({ configSource: { data: config.text }, configFileStrict: true }).profiles);
    } catch (err) {
      throw new SettingError(`${where}: ${firstLine(err)}`);
    }
    if (env.TEMPORAL_PROFILE && !profiles.includes(env.TEMPORAL_PROFILE))
      throw new SettingError(`TEMPORAL_PROFILE: no profile "${env.TEMPORAL_PROFILE}" in ${config.file} (it has: ${profiles.join(', ') || 'none'})`);
    profile = loadClientConfigProfile({ configSource: { data: config.text }, profile: profileName, overrideEnvVars: env, configFileStrict: true });
  } else {
    if (env.TEMPORAL_PROFILE)
      throw new SettingError(`TEMPORAL_PROFILE is "${env.TEMPORAL_PROFILE}" but there is no config file (set TEMPORAL_CONFIG_FILE, or create ${defaultConfigFile(fullEnv) ?? 'temporal.toml'})`);
    profile = loadClientConfigProfile({ disableFile: true, overrideEnvVars: env });
  }
  const source = (variable: string, key: string) =>
    env[variable] !== undefined || !config ? variable : `${key} of profile "${profileName}" in ${config.file}`;

  const address = profile.address ?? DEFAULT_TEMPORAL_ADDRESS;
  if (!validHostPort(address)) throw new SettingError(`${source('TEMPORAL_ADDRESS', 'address')} must be host:port, got "${address}"`);
  const namespace = profile.namespace ?? DEFAULT_TEMPORAL_NAMESPACE;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(namespace))
    throw new SettingError(`${source('TEMPORAL_NAMESPACE', 'namespace')} is not a namespace name: "${namespace}"`);
  checkTlsFiles(profile, source);

  let mapped: ReturnType<typeof toClientOptions>;
  try {
    mapped = toClientOptions(profile);
  } catch (err) {
    throw new SettingError(`TLS settings: ${firstLine(err)}`);
  }
  const { tls, apiKey, metadata } = mapped.connectionOptions;
  return {
    address,
    namespace,
    apiKey,
    tls: Boolean(tls),
    ...(config ? { profile: { name: profileName, file: config.file } } : {}),
    connection: {
      address,
      ...(tls ? { tls } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(metadata && Object.keys(metadata).length ? { metadata } : {}),
    },
  };
}

/** A certificate or key path that does not exist, or a certificate without its key, named by where it was set. */
function checkTlsFiles(profile: ClientConfigProfile, source: (variable: string, key: string) => string): void {
  const tls = profile.tls;
  if (!tls || tls.disabled) return;
  const files: Array<[ConfigDataSource | undefined, string, string]> = [
    [tls.clientCert, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert_path'],
    [tls.clientKey, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'tls.client_key_path'],
    [tls.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert_path'],
  ];
  for (const [data, variable, key] of files) {
    if (data && 'path' in data && !existsSync(data.path)) throw new SettingError(`${source(variable, key)}: no such file ${data.path}`);
  }
  if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
    const missing = tls.clientCert ? ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'tls.client_key_path'] : ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert_path'];
    throw new SettingError(`a TLS client certificate needs its key and the key its certificate: set ${missing[0]} (or ${missing[1]} in the profile)`);
  }
}

/** Where a connection failure sends the user: the profile the address came from, or the variable. */
export function unreachableHint(target: TemporalTarget): string {
  const start = target.profile
    ? `start it with \`lab server\`, or fix the address of profile "${target.profile.name}" in ${target.profile.file} (or set TEMPORAL_ADDRESS)`
    : 'start it with `lab server` or set TEMPORAL_ADDRESS';
  return `${start}${tlsHint(target)}`;
}

/**
 * A server with mutual TLS closes the connection in the handshake, which reads as unreachable too.
 * Not said for the default address: that is the dev server, which has no TLS.
 */
function tlsHint(target: TemporalTarget): string {
  if (target.address === DEFAULT_TEMPORAL_ADDRESS) return '';
  if (!target.tls) return '; a server with TLS (lab cluster up --listen or --tls) closes connections without it: set the TEMPORAL_TLS_* settings it printed';
  const tls = target.connection.tls;
  if (typeof tls === 'object' && tls?.clientCertPair) return '';
  return '; a server with mutual TLS also needs a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)';
}
