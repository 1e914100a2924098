/**
 * Mutual TLS for a cluster that workers on other hosts reach (`lab cluster up --listen`): a private
 * CA made once under `<LAB_HOME>/cluster/tls/`, the frontend's certificate (remade when the names
 * it must answer to change) and one client certificate for workers, `lab` and the server's own
 * system worker. The frontend then refuses any client without a certificate from that CA: the
 * Temporal server has no other authentication of its own.
 *
 * Made with the openssl command line (Debian's `openssl` package): Node can read certificates but
 * not issue them.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ClusterError } from './errors.js';

const run = promisify(execFile);

/** The name our own clients on this host check the frontend's certificate against. */
export const LOCAL_SERVER_NAME = 'localhost';

export interface ClusterTls {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The names and addresses the frontend's certificate is valid for. */
  hosts: string[];
}

export function tlsFiles(root: string): Omit<ClusterTls, 'hosts'> & { caKey: string; hostsFile: string } {
  const dir = path.join(root, 'tls');
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: f('ca.pem'),
    caKey: f('ca-key.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server-key.pem'),
    clientCert: f('client.pem'),
    clientKey: f('client-key.pem'),
    hostsFile: f('server-hosts.json'),
  };
}

/** Whether an address to listen on is this host's loopback only. */
export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}

/**
 * The names a remote worker may use for this host: its name, and every address it listens on
 * (all of this host's addresses for 0.0.0.0), beside localhost and 127.0.0.1 for local clients.
 */
export function certificateHosts(listen: string, extra: string[]): string[] {
  // The operator's names first: the first name that is not this host's loopback is what `up` tells remote workers to use.
  const all = ['localhost', '127.0.0.1', ...extra, os.hostname()];
  if (listen === '0.0.0.0' || listen === '::') {
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') all.push(a.address);
  } else all.push(listen);
  return [...new Set(all.filter(Boolean))];
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new ClusterError('openssl is not installed: TLS for the cluster needs it (Debian: apt-get install openssl)');
    throw new ClusterError(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-2).join(' / ')}`);
  }
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A key and a certificate signed by the CA, with the given extensions. */
async function issue(files: ReturnType<typeof tlsFiles>, cert: string, key: string, subject: string, extensions: string[]): Promise<void> {
  const csr = `${cert}.csr`;
  const ext = `${cert}.ext`;
  writeFileSync(ext, `${extensions.join('\n')}\n`);
  try {
    await openssl(['req', ...KEY, '-keyout', key, '-out', csr, '-subj', subject], files.dir);
    await openssl(['x509', '-req', '-in', csr, '-CA', files.ca, '-CAkey', files.caKey, '-CAcreateserial', '-out', cert, '-days', '825', '-extfile', ext], files.dir);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}

const san = (host: string) => (net.isIP(host) ? `IP:${host}` : `DNS:${host}`);

/**
 * The cluster's CA and certificates, made where missing; the frontend's certificate is made again
 * when `hosts` differ from those it was made for (the CA, and so every client's trust, stays).
 */
export async function ensureCertificates(root: string, hosts: string[], log: (line: string) => void): Promise<ClusterTls> {
  const files = tlsFiles(root);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.ca) || !existsSync(files.caKey)) {
    log(`making the cluster's certificate authority in ${files.dir}`);
    await openssl(
      ['req', '-x509', ...KEY, '-keyout', files.caKey, '-out', files.ca, '-days', '3650', '-subj', '/CN=Durable Lab cluster CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      files.dir,
    );
    // A new CA: certificates of the old one no longer verify.
    for (const f of [files.serverCert, files.clientCert, files.hostsFile]) rmSync(f, { force: true });
  }
  let madeFor: string[] = [];
  try {
    madeFor = JSON.parse(readFileSync(files.hostsFile, 'utf8')) as string[];
  } catch {
    // none recorded: made below
  }
  if (!existsSync(files.serverCert) || [...hosts].sort().join(',') !== [...madeFor].sort().join(',')) {
    log(`making the frontend's certificate for ${hosts.join(', ')}`);
    await issue(files, files.serverCert, files.serverKey, '/CN=Durable Lab cluster frontend', [
      `subjectAltName=${hosts.map(san).join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ]);
    writeFileSync(files.hostsFile, JSON.stringify(hosts));
  }
  if (!existsSync(files.clientCert)) {
    log('making the client certificate for workers and lab');
    await issue(files, files.clientCert, files.clientKey, '/CN=Durable Lab worker', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth']);
  }
  return { dir: files.dir, ca: files.ca, serverCert: files.serverCert, serverKey: files.serverKey, clientCert: files.clientCert, clientKey: files.clientKey, hosts };
}

/** What a client of the SDK needs to reach the frontend from this host. */
export function clientTlsOptions(tls: Pick<ClusterTls, 'ca' | 'clientCert' | 'clientKey'>) {
  return {
    serverNameOverride: LOCAL_SERVER_NAME,
    serverRootCACertificate: readFileSync(tls.ca),
    clientCertPair: { crt: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) },
  };
}

/** The environment a worker or `lab` needs to reach the cluster at `address` with the client certificate. */
export function clientEnv(address: string, tls: Pick<ClusterTls, 'ca' | 'clientCert' | 'clientKey'>): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.ca,
    TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKey,
  };
}
