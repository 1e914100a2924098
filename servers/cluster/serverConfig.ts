/**
 * The Temporal server's and the UI server's config files, as text. Pure functions of the cluster's
 * settings. Strings are written as JSON strings, which YAML reads as they are.
 */
import type { ClusterPorts } from './layout.js';

export interface ServerConfigInput {
  ports: ClusterPorts;
  historyShards: number;
  postgres: { user: string; password: string; database: string; visibilityDatabase: string };
  dynamicConfigFile: string;
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
  // bindOnLocalHost: every service listens on 127.0.0.1 only.
  const service = (name: string, grpc: number, membership: number, extra: string[] = []) =>
    [`  ${name}:`, '    rpc:', `      grpcPort: ${grpc}`, `      membershipPort: ${membership}`, '      bindOnLocalHost: true', ...extra.map((l) => `      ${l}`)].join('\n');
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

/** The UI server's `base.yaml`: served on 127.0.0.1 only, talking to the frontend on 127.0.0.1. */
export function renderUiConfig(o: { frontendPort: number; uiPort: number; namespace: string }): string {
  return [
    '# Written by `lab cluster up`.',
    `temporalGrpcAddress: ${q(`127.0.0.1:${o.frontendPort}`)}`,
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
