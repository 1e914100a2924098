/**
 * Connection settings as the Temporal CLI and SDKs read them (workers/temporalConfig.ts): a TOML
 * profile, TEMPORAL_* overrides, TLS and API key mapped to the connection, and a wrong setting as
 * one line naming it. The TLS mapping is checked on the wire: the CLI and a worker connection reach
 * a dev server through a TLS proxy that demands a client certificate from the test's own CA.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { NativeConnection } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingError, temporalTarget } from '../workers/temporalConfig.js';
import { runLab } from './helpers/labProcesses.js';
import { createDevServerEnv, tempDir } from './helpers/temporal.js';

const dir = tempDir('temporal-config');
/** A home without a Temporal config file, so the machine's own ~/.config never leaks in. */
const home = path.join(dir, 'home');
mkdirSync(home, { recursive: true });

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const PROFILES = write(
  'temporal.toml',
  `[profile.default]
address = "temporal.internal:7233"
namespace = "research"

[profile.cloud]
address = "lab.a1b2c.tmprl.cloud:7233"
namespace = "lab.a1b2c"
api_key = "profile-key"

[profile.cloud.grpc_meta]
x-team = "ml"

[profile.mtls]
address = "temporal.internal:7233"
[profile.mtls.tls]
client_cert_path = "${path.join(dir, 'client.pem')}"
client_key_path = "${path.join(dir, 'client-key.pem')}"
server_ca_cert_path = "${path.join(dir, 'ca.pem')}"
server_name = "lab-temporal.test"

[profile.plain-with-key]
address = "127.0.0.1:7233"
api_key = "k"
[profile.plain-with-key.tls]
disabled = true
`,
);

const target = (env: NodeJS.ProcessEnv) => temporalTarget({ HOME: home, ...env });
const settingError = (env: NodeJS.ProcessEnv) => {
  try {
    target(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('no error');
};

/** A CA, a server certificate for lab-temporal.test and a client certificate, made with openssl. */
function makeCertificates(): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lab test CA');
  for (const [name, cn, ext] of [
    ['server', 'lab-temporal.test', 'subjectAltName=DNS:lab-temporal.test'],
    ['client', 'lab-worker', 'extendedKeyUsage=clientAuth'],
  ]) {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    write(`${name}.ext`, `${ext}\n`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

describe('connection settings', () => {
  it('defaults to the local dev server, and today\'s variables still work', () => {
    expect(target({})).toEqual({ address: 'localhost:7233', namespace: 'default', apiKey: undefined, tls: false, connection: { address: 'localhost:7233' } });
    expect(target({ TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' })).toMatchObject({ address: 'localhost:7233', namespace: 'default' });
    expect(target({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'k' })).toMatchObject({
      namespace: 'ns.acct',
      tls: true,
      connection: { address: 'ns.acct.tmprl.cloud:7233', apiKey: 'k', tls: true },
    });
    expect(target({ TEMPORAL_TLS: 'true' }).connection.tls).toBeTruthy();
    expect(target({ TEMPORAL_TLS: '1' }).tls).toBe(true);
    expect(target({ TEMPORAL_TLS: 'false' }).tls).toBe(false);
  });

  it('reads the profile TEMPORAL_PROFILE names from TEMPORAL_CONFIG_FILE, or the default file, with variables overriding it', () => {
    expect(target({ TEMPORAL_CONFIG_FILE: PROFILES })).toMatchObject({ address: 'temporal.internal:7233', namespace: 'research', profile: { name: 'default', file: PROFILES } });
    const cloud = target({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud).toMatchObject({ namespace: 'lab.a1b2c', apiKey: 'profile-key', tls: true });
    expect(cloud.connection).toEqual({ address: 'lab.a1b2c.tmprl.cloud:7233', tls: true, apiKey: 'profile-key', metadata: { 'x-team': 'ml' } });
    // A variable beats the profile's value, as in the Temporal CLI.
    expect(target({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other', TEMPORAL_API_KEY: 'env-key' })).toMatchObject({
      namespace: 'other',
      connection: { apiKey: 'env-key' },
    });
    // TLS turned off explicitly wins over the API key's implied TLS.
    expect(target({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'plain-with-key' })).toMatchObject({ tls: false, connection: { apiKey: 'k' } });
    // The file the SDKs look for when TEMPORAL_CONFIG_FILE is unset.
    const xdg = path.join(dir, 'xdg');
    mkdirSync(path.join(xdg, 'temporalio'), { recursive: true });
    writeFileSync(path.join(xdg, 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "10.0.0.5:7233"\n');
    expect(target({ XDG_CONFIG_HOME: xdg })).toMatchObject({ address: '10.0.0.5:7233', namespace: 'default' });
  });

  it('a wrong setting is one line that names it', () => {
    const missing = path.join(dir, 'nope.toml');
    expect(settingError({ TEMPORAL_TLS: 'yes' })).toBe('TEMPORAL_TLS must be true or false (or 1/0), got "yes"');
    expect(settingError({ TEMPORAL_ADDRESS: 'temporal.internal' })).toBe('TEMPORAL_ADDRESS must be host:port, got "temporal.internal"');
    expect(settingError({ TEMPORAL_CONFIG_FILE: missing })).toBe(`TEMPORAL_CONFIG_FILE: no such file ${missing}`);
    expect(settingError({ TEMPORAL_PROFILE: 'cloud' })).toMatch(/^TEMPORAL_PROFILE is "cloud" but there is no config file \(set TEMPORAL_CONFIG_FILE, or create .*temporal\.toml\)$/);
    expect(settingError({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'staging' })).toBe(
      `TEMPORAL_PROFILE: no profile "staging" in ${PROFILES} (it has: default, cloud, mtls, plain-with-key)`,
    );
    const typo = write('typo.toml', '[profile.default]\nadress = "x:1"\n');
    expect(settingError({ TEMPORAL_CONFIG_FILE: typo })).toBe(`TEMPORAL_CONFIG_FILE ${typo}: key(s) unrecognized in profile.default: adress`);
    const broken = write('broken.toml', '[profile.default\naddress = 1\n');
    expect(settingError({ TEMPORAL_CONFIG_FILE: broken })).toMatch(new RegExp(`^TEMPORAL_CONFIG_FILE ${broken}: .+`));
    const badAddress = write('bad-address.toml', '[profile.default]\naddress = "temporal.internal"\n');
    expect(settingError({ TEMPORAL_CONFIG_FILE: badAddress })).toBe(`address of profile "default" in ${badAddress} must be host:port, got "temporal.internal"`);
    // The mtls profile's files do not exist yet (the TLS test makes them): named by the key and file.
    expect(settingError({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'mtls', TEMPORAL_TLS_CLIENT_CERT_PATH: missing })).toBe(
      `TEMPORAL_TLS_CLIENT_CERT_PATH: no such file ${missing}`,
    );
    expect(settingError({ TEMPORAL_TLS_CLIENT_CERT_PATH: PROFILES })).toBe(
      'a TLS client certificate needs its key and the key its certificate: set TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_key_path in the profile)',
    );
    expect(settingError({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toMatch(/^TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported/);
  });
});

describe('TLS on the wire', () => {
  let env: TestWorkflowEnvironment;
  let proxy: tls.Server;
  let proxyPort: number;
  /** What the proxy saw of each client: the server name it asked for and its certificate's CN. */
  const seen: Array<{ servername: string | false | null; clientCN: unknown; authorized: boolean }> = [];

  beforeAll(async () => {
    makeCertificates();
    env = await createDevServerEnv();
    const [host, port] = [env.address.slice(0, env.address.lastIndexOf(':')), Number(env.address.slice(env.address.lastIndexOf(':') + 1))];
    // TLS in front of the dev server (which has none): a client certificate from the test CA is required.
    proxy = tls.createServer(
      {
        key: readFileSync(path.join(dir, 'server-key.pem')),
        cert: readFileSync(path.join(dir, 'server.pem')),
        ca: readFileSync(path.join(dir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        seen.push({ servername: socket.servername, clientCN: socket.getPeerCertificate().subject?.CN, authorized: socket.authorized });
        const upstream = net.connect(port, host === 'localhost' ? '127.0.0.1' : host);
        socket.pipe(upstream).pipe(socket);
        const close = () => {
          socket.destroy();
          upstream.destroy();
        };
        socket.on('error', close);
        upstream.on('error', close);
      },
    );
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyPort = (proxy.address() as net.AddressInfo).port;
  }, 120_000);

  afterAll(async () => {
    proxy?.close();
    await env?.teardown();
  });

  it('the mtls profile\'s CA, client certificate and server name reach the server, from the CLI and from a worker connection', async () => {
    const tlsEnv = { HOME: home, TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'mtls', TEMPORAL_ADDRESS: `127.0.0.1:${proxyPort}` };
    const t = target(tlsEnv);
    const mapped = t.connection.tls as { serverNameOverride?: string; serverRootCACertificate?: Uint8Array; clientCertPair?: { crt: Uint8Array; key: Uint8Array } };
    expect(mapped.serverNameOverride).toBe('lab-temporal.test');
    expect(Buffer.from(mapped.serverRootCACertificate!).toString()).toBe(readFileSync(path.join(dir, 'ca.pem'), 'utf8'));
    expect(Buffer.from(mapped.clientCertPair!.crt).toString()).toBe(readFileSync(path.join(dir, 'client.pem'), 'utf8'));
    expect(Buffer.from(mapped.clientCertPair!.key).toString()).toBe(readFileSync(path.join(dir, 'client-key.pem'), 'utf8'));

    // The worker's connection (the Rust core's gRPC client).
    const connection = await NativeConnection.connect(t.connection);
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    // The CLI (the Node gRPC client), as a user runs it.
    const listed = await runLab(['list'], { ...tlsEnv, TEMPORAL_NAMESPACE: 'default' });
    expect(listed.code, listed.stderr).toBe(0);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) expect(s).toEqual({ servername: 'lab-temporal.test', clientCN: 'lab-worker', authorized: true });

    // Without the client certificate the proxy refuses the handshake: the CLI cannot connect.
    const before = seen.length;
    const refused = await runLab(['list'], { HOME: home, TEMPORAL_CONFIG_FILE: '', TEMPORAL_PROFILE: '', TEMPORAL_ADDRESS: `127.0.0.1:${proxyPort}`, TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'), TEMPORAL_TLS_SERVER_NAME: 'lab-temporal.test' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^lab list: cannot reach Temporal at 127\.0\.0\.1:\d+/);
    expect(seen.length).toBe(before);
  }, 120_000);
});
