/**
 * A cluster that workers on other hosts reach (issue 18): `lab cluster up --listen 0.0.0.0` binds
 * the frontend on every address of this host with mutual TLS from the cluster's own CA. A client
 * without TLS, or with TLS but no client certificate, is refused; a worker process and `lab run`
 * given the TEMPORAL_TLS_* settings `up` prints reach it through this host's own network address
 * (not 127.0.0.1, where one exists) and a research run completes; the UI server reaches it too.
 * `up --new-certificates` after `down` makes a new CA: the old client certificate is refused.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResearchRunResult } from '../../common/schemas.js';
import { clientTlsOptions, tlsFiles } from '../../servers/cluster/tls.js';
import { clusterPaths } from '../../servers/cluster/layout.js';
import { FakeLlmServer } from '../fakes/fakeLlmServer.js';
import { scriptedReply } from '../fakes/recordedOutputs.js';
import { runLab, sigkill, startWorkerProcess } from '../helpers/labProcesses.js';
import { tempDir } from '../helpers/temporal.js';
import { freeClusterPorts, type ClusterPortBlock } from './clusterServer.js';

const INSTALL_TIMEOUT_MS = 1_200_000;
const dir = tempDir('cluster-tls');
const labHome = path.join(dir, 'lab');
const labEnv = { LAB_HOME: labHome, LAB_LITERATURE_BACKENDS: 'none' };
/** This host as another host would name it: its first network address, else (a machine without one) loopback. */
const hostAddress =
  Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4')?.address ?? '127.0.0.1';
let ports: ClusterPortBlock;
let fake: FakeLlmServer;
let worker: ChildProcess | undefined;
let upOutput = '';

/** The settings `up` printed for workers on this host, as an environment. */
function printedEnv(): Record<string, string> {
  const line = upOutput.split('\n').find((l) => l.includes('workers and lab on this host: export '));
  expect(line, upOutput).toBeDefined();
  return Object.fromEntries(line!.split('export ')[1].trim().split(' ').map((kv) => kv.split('=') as [string, string]));
}

async function healthCheck(options: Parameters<typeof Connection.connect>[0]): Promise<boolean> {
  const connection = await Connection.connect({ connectTimeout: '5s', ...options });
  try {
    const r = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
    return r.status === proto.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
  } finally {
    await connection.close();
  }
}

beforeAll(async () => {
  const installed = await runLab(['cluster', 'install', '--no-ui'], { LAB_HOME: tempDir('cluster-install') });
  if (installed.code !== 0) throw new Error(`lab cluster install failed: ${installed.stderr}`);
  ports = await freeClusterPorts();
  fake = await new FakeLlmServer((req) => ({ text: scriptedReply(req.prompt)! })).start();
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await sigkill(worker);
  await fake?.stop();
  const down = await runLab(['cluster', 'down', '--delete-data'], labEnv);
  if (down.code !== 0) process.stderr.write(`lab cluster down failed: ${down.stderr}\n`);
}, 120_000);

describe('lab cluster up --listen: workers on other hosts, with mutual TLS', () => {
  it('comes up on every address with mutual TLS, and says what a worker needs', async () => {
    const up = await runLab(['cluster', 'up', '--port', String(ports.base), '--ui-port', String(ports.ui), '--pg-port', String(ports.postgres), '--listen', '0.0.0.0', '--tls-host', 'lab-cluster.test'], labEnv);
    expect(up.code, up.stderr).toBe(0);
    upOutput = up.stdout;
    expect(up.stdout).toMatch(/mutual TLS: clients need a certificate from the CA in .*; the frontend answers to localhost, 127\.0\.0\.1, lab-cluster\.test/);
    expect(up.stdout).toContain(`export TEMPORAL_ADDRESS=lab-cluster.test:${ports.base} TEMPORAL_TLS_SERVER_CA_CERT_PATH=`);
    const files = tlsFiles(clusterPaths(labEnv).root);
    expect(printedEnv()).toEqual({
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.base}`,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: files.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: files.clientKey,
    });
    const status = await runLab(['cluster', 'status'], labEnv);
    expect(status.code, status.stdout).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`listens on 0\\.0\\.0\\.0:${ports.base}, mutual TLS`));
    // The UI server reaches the frontend with the client certificate.
    const namespaces = (await (await fetch(`http://127.0.0.1:${ports.ui}/api/v1/namespaces`)).json()) as { namespaces: Array<{ namespaceInfo: { name: string } }> };
    expect(namespaces.namespaces.map((n) => n.namespaceInfo.name)).toContain('default');
  }, INSTALL_TIMEOUT_MS);

  it('refuses a client without TLS and one without a client certificate, on the network address', async () => {
    const address = `${hostAddress}:${ports.base}`;
    const files = tlsFiles(clusterPaths(labEnv).root);
    await expect(healthCheck({ address })).rejects.toThrow();
    const { clientCertPair: _dropped, ...serverOnly } = clientTlsOptions(files);
    await expect(healthCheck({ address, tls: serverOnly })).rejects.toThrow();
    expect(await healthCheck({ address, tls: clientTlsOptions(files) })).toBe(true);
    // lab itself says it cannot reach the server without the certificate.
    const refused = await runLab(['list'], { ...labEnv, TEMPORAL_ADDRESS: address });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('a server with TLS (lab cluster up --listen or --tls) closes connections without it: set the TEMPORAL_TLS_* settings it printed');
    const noCertificate = await runLab(['list'], { ...labEnv, TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca });
    expect(noCertificate.stderr).toContain('a server with mutual TLS also needs a client certificate');
  }, 60_000);

  it('a worker and lab run with the printed settings, through the network address, complete a research run', async () => {
    const env = { ...printedEnv(), TEMPORAL_ADDRESS: `${hostAddress}:${ports.base}` };
    worker = await startWorkerProcess({ port: ports.base, labHome: path.join(dir, 'worker-home'), logFile: path.join(dir, 'worker.log'), env });
    const runId = `tls-run-${Date.now()}`;
    const started = await runLab(['run', 'small-lm-data-efficiency', '--model', `openai-compatible:scripted-model@${fake.openaiBaseURL}`, '--id', runId, '--detach', '--no-preflight'], { ...labEnv, ...env });
    expect(started.code, started.stderr).toBe(0);
    const files = tlsFiles(clusterPaths(labEnv).root);
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.base}`, tls: clientTlsOptions(files) });
    try {
      const result: ResearchRunResult = await new Client({ connection }).workflow.getHandle(runId).result();
      expect(result.status).toBe('completed');
    } finally {
      await connection.close();
    }
    const listed = await runLab(['list'], { ...labEnv, ...env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(runId);
  }, 180_000);

  it('new certificates: refused while the server runs; after down, a new CA whose certificates are the only ones taken', async () => {
    await sigkill(worker);
    worker = undefined;
    const upArgs = ['cluster', 'up', '--port', String(ports.base), '--ui-port', String(ports.ui), '--pg-port', String(ports.postgres), '--listen', '0.0.0.0', '--tls-host', 'lab-cluster.test'];
    const whileRunning = await runLab([...upArgs, '--new-certificates'], labEnv);
    expect(whileRunning.code).toBe(2);
    expect(whileRunning.stderr).toContain('run lab cluster down first, then lab cluster up --new-certificates');
    const files = tlsFiles(clusterPaths(labEnv).root);
    const old = Object.fromEntries((['ca', 'clientCert', 'clientKey'] as const).map((k) => [k, readFileSync(files[k])]));
    const down = await runLab(['cluster', 'down'], labEnv);
    expect(down.code, down.stderr).toBe(0);
    const up = await runLab([...upArgs, '--new-certificates'], labEnv);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr + up.stdout).toContain("removed the cluster's CA and certificates");
    expect(readFileSync(files.ca).equals(old.ca)).toBe(false);
    const address = `${hostAddress}:${ports.base}`;
    // The old client certificate (with the old CA to trust the server) is refused; the new ones are taken.
    await expect(healthCheck({ address, tls: { serverNameOverride: 'localhost', serverRootCACertificate: old.ca, clientCertPair: { crt: old.clientCert, key: old.clientKey } } })).rejects.toThrow();
    await expect(healthCheck({ address, tls: { ...clientTlsOptions(files), clientCertPair: { crt: old.clientCert, key: old.clientKey } } })).rejects.toThrow();
    expect(await healthCheck({ address, tls: clientTlsOptions(files) })).toBe(true);
    // The runs in the database are kept.
    const listed = await runLab(['list'], { ...labEnv, ...printedEnv() });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('tls-run-');
  }, 300_000);
});
