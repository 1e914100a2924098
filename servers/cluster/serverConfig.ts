/**
 * The Temporal server's and the UI server's config files, as text. Pure functions of the cluster's
 * settings. Strings are written as JSON strings, which YAML reads as they are.
 */
import type { ClusterPorts } from './layout.js';
import { DEFAULT_LISTEN } from './state.js';
import { LOCAL_SERVER_NAME, type ClusterTls } from './tls.js';

export interface ServerConfigInput {
  ports: ClusterPorts;
  historyShards: number;
  postgres: { user: string; password: string; database: string; visibilityDatabase: string };
  dynamicConfigFile: string;
  /** Where the frontend listens (127.0.0.1 unless `--listen`); every other service stays on 127.0.0.1. */
  listen: string;
  /** Mutual TLS on the frontend: its certificate, the CA its clients' certificates must come from, the system worker's own. */
  tls?: Pick<ClusterTls, 'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey'>;
}

const q = (s: string) => JSON.stringify(s);

export function renderServerConfig(c: ServerConfigInput): string {
  const p = c.ports;
  const datastore = (database: string, maxConns: number) =>
    [
      '      sql:',
      '        pluginName: "postgres12"',
      `        databaseName: ${q(database)}`,
      `        connectAddr: ${q(`127.0.0.1:${p.postgres}`)}`,
      '        connectProtocol: "tcp"',
      `        user: ${q(c.postgres.user)}`,
      `        password: ${q(c.postgres.password)}`,
      `        maxConns: ${maxConns}`,
      `        maxIdleConns: ${maxConns}`,
      '        maxConnLifetime: "1h"',
    ].join('\n');
  // bindOnLocalHost: the services inside the server listen on 127.0.0.1 only; the frontend where --listen says.
  const bind = (name: string) => (name === 'frontend' && c.listen !== DEFAULT_LISTEN ? `bindOnIP: ${q(c.listen)}` : 'bindOnLocalHost: true');
  const service = (name: string, grpc: number, membership: number, extra: string[] = []) =>
    [`  ${name}:`, '    rpc:', `      grpcPort: ${grpc}`, `      membershipPort: ${membership}`, `      ${bind(name)}`, ...extra.map((l) => `      ${l}`)].join('\n');
  const t = c.tls;
  // The frontend asks every client for a certificate from the cluster's CA; the server's own
  // system worker (and its other services, over 127.0.0.1) present the client certificate.
  const tls = t
    ? [
        '  tls:',
        '    frontend:',
        '      server:',
        `        certFile: ${q(t.serverCert)}`,
        `        keyFile: ${q(t.serverKey)}`,
        '        requireClientAuth: true',
        `        clientCaFiles: [${q(t.ca)}]`,
        '      client:',
        `        serverName: ${q(LOCAL_SERVER_NAME)}`,
        `        rootCaFiles: [${q(t.ca)}]`,
        '    systemWorker:',
        `      certFile: ${q(t.clientCert)}`,
        `      keyFile: ${q(t.clientKey)}`,
        '      client:',
        `        serverName: ${q(LOCAL_SERVER_NAME)}`,
        `        rootCaFiles: [${q(t.ca)}]`,
      ]
    : [];
  return [
    '# Written by `lab cluster up`; rewritten on every up (edit the command\'s options, not this file).',
    'log:',
    '  stdout: true',
    '  level: warn',
    '',
    'persistence:',
    '  defaultStore: postgres-default',
    '  visibilityStore: postgres-visibility',
    `  numHistoryShards: ${c.historyShards}`,
    '  datastores:',
    '    postgres-default:',
    // Each service in the one process opens its own pool; 4 services × 20 stays under max_connections.
    datastore(c.postgres.database, 20),
    '    postgres-visibility:',
    datastore(c.postgres.visibilityDatabase, 5),
    '',
    'global:',
    '  membership:',
    '    maxJoinDuration: 30s',
    '    broadcastAddress: "127.0.0.1"',
    '  metrics:',
    '    prometheus:',
    '      framework: "tally"',
    '      timerType: "histogram"',
    `      listenAddress: ${q(`127.0.0.1:${p.metrics}`)}`,
    ...tls,
    '',
    'services:',
    service('frontend', p.frontend, p.frontendMembership, [`httpPort: ${p.frontendHttp}`]),
    service('history', p.history, p.historyMembership),
    service('matching', p.matching, p.matchingMembership),
    service('worker', p.worker, p.workerMembership),
    '',
    'clusterMetadata:',
    '  enableGlobalNamespace: false',
    '  failoverVersionIncrement: 10',
    '  masterClusterName: "active"',
    '  currentClusterName: "active"',
    '  clusterInformation:',
    '    active:',
    '      enabled: true',
    '      initialFailoverVersion: 1',
    '      rpcName: "frontend"',
    `      rpcAddress: ${q(`127.0.0.1:${p.frontend}`)}`,
    '',
    'dcRedirectionPolicy:',
    '  policy: "noop"',
    '',
    'dynamicConfigClient:',
    `  filepath: ${q(c.dynamicConfigFile)}`,
    '  pollInterval: "10s"',
    '',
  ].join('\n');
}

/**
 * Dynamic config: the same memo warning mark as `lab server` (a run's memo passes the 2 KB default
 * after a stage or two). Not `system.forceSearchAttributesCacheRefreshOnRead`, which the dev server
 * sets: it reads the namespace from PostgreSQL under one lock on every search-attribute lookup;
 * `up` waits instead until the attributes it registered are known.
 */
export function renderDynamicConfig(): string {
  return ['# Written by `lab cluster up`.', 'limit.memoSize.warn:', '  - value: 65536', ''].join('\n');
}

/** The UI server's `base.yaml`: served on 127.0.0.1 only, talking to the frontend on 127.0.0.1 (with the client certificate under TLS). */
export function renderUiConfig(o: { frontendPort: number; uiPort: number; namespace: string; tls?: Pick<ClusterTls, 'ca' | 'clientCert' | 'clientKey'> }): string {
  const tls = o.tls
    ? ['tls:', `  caFile: ${q(o.tls.ca)}`, `  certFile: ${q(o.tls.clientCert)}`, `  keyFile: ${q(o.tls.clientKey)}`, `  serverName: ${q(LOCAL_SERVER_NAME)}`, '  enableHostVerification: true']
    : [];
  return [
    '# Written by `lab cluster up`.',
    `temporalGrpcAddress: ${q(`127.0.0.1:${o.frontendPort}`)}`,
    ...tls,
    'host: "127.0.0.1"',
    `port: ${o.uiPort}`,
    'enableUi: true',
    `defaultNamespace: ${q(o.namespace)}`,
    // No calls out to the internet for news or new versions: the cluster may have none.
    'disableNewsFetch: true',
    'notifyOnNewVersion: false',
    'refreshInterval: 1m',
    'cors:',
    '  allowOrigins:',
    `    - ${q(`http://localhost:${o.uiPort}`)}`,
    `    - ${q(`http://127.0.0.1:${o.uiPort}`)}`,
    '',
  ].join('\n');
}
