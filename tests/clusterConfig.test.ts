/**
 * `lab cluster`'s cheap level, in `npm test` (the real cluster is `npm run test:cluster`): the
 * server's and the UI's config files as the programs read them (YAML), the port layout, and the
 * command's refusals, which come before anything is built or started.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterPaths, clusterPorts, portRoles, rootFallbackDataDir } from '../servers/cluster/layout.js';
import { renderDynamicConfig, renderServerConfig, renderUiConfig } from '../servers/cluster/serverConfig.js';
import { clusterCommand } from '../scripts/commands/cluster.js';
import type { CliError } from '../scripts/lib/client.js';
import { parseCommandArgs } from '../scripts/lib/command.js';

describe('lab cluster config', () => {
  it('binds every service to 127.0.0.1 on its own port and uses PostgreSQL with the given shards', () => {
    const ports = clusterPorts(30_000, 31_000, 30_020);
    const password = 'p"w:\\ #x'; // quotes, a colon, a backslash and a hash survive the YAML
    const config = parse(
      renderServerConfig({ ports, historyShards: 16, postgres: { user: 'temporal', password, database: 'temporal', visibilityDatabase: 'temporal_visibility' }, dynamicConfigFile: '/tmp/dc.yaml', listen: '127.0.0.1' }),
    );
    expect(config.persistence.numHistoryShards).toBe(16);
    expect(config.global.tls).toBeUndefined();
    for (const store of Object.values(config.persistence.datastores) as Array<{ sql: { pluginName: string; connectAddr: string; password: string } }>) {
      expect(store.sql.pluginName).toBe('postgres12');
      expect(store.sql.connectAddr).toBe('127.0.0.1:30020');
      expect(store.sql.password).toBe(password);
    }
    const services = config.services as Record<string, { rpc: { grpcPort: number; membershipPort: number; bindOnLocalHost: boolean } }>;
    expect(Object.keys(services).sort()).toEqual(['frontend', 'history', 'matching', 'worker']);
    for (const s of Object.values(services)) expect(s.rpc.bindOnLocalHost).toBe(true);
    expect(services.frontend.rpc.grpcPort).toBe(30_000);
    expect(config.global.metrics.prometheus.listenAddress).toBe('127.0.0.1:30009');
    expect(config.global.membership.broadcastAddress).toBe('127.0.0.1');
    expect(config.dynamicConfigClient.filepath).toBe('/tmp/dc.yaml');

    // No two roles share a port; the server's ten are --port and the nine above it.
    const all = portRoles(ports).map((r) => r.port);
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((p) => p >= 30_000 && p <= 30_009)).toHaveLength(10);

    expect(parse(renderDynamicConfig())['limit.memoSize.warn'][0].value).toBe(65_536);
    const ui = parse(renderUiConfig({ frontendPort: 30_000, uiPort: 31_000, namespace: 'lab' }));
    expect(ui).toMatchObject({ temporalGrpcAddress: '127.0.0.1:30000', host: '127.0.0.1', port: 31_000, defaultNamespace: 'lab', notifyOnNewVersion: false });
  });

  it('with --listen, binds the frontend alone there, with mutual TLS for the frontend and the server\'s own system worker', () => {
    const ports = clusterPorts(30_000, 31_000, 30_020);
    const tls = { ca: '/l/tls/ca.pem', serverCert: '/l/tls/server.pem', serverKey: '/l/tls/server-key.pem', clientCert: '/l/tls/client.pem', clientKey: '/l/tls/client-key.pem' };
    const config = parse(
      renderServerConfig({ ports, historyShards: 4, postgres: { user: 'temporal', password: 'x', database: 'temporal', visibilityDatabase: 'v' }, dynamicConfigFile: '/tmp/dc.yaml', listen: '0.0.0.0', tls }),
    );
    const services = config.services as Record<string, { rpc: { bindOnLocalHost?: boolean; bindOnIP?: string } }>;
    expect(services.frontend.rpc).toMatchObject({ bindOnIP: '0.0.0.0' });
    expect(services.frontend.rpc.bindOnLocalHost).toBeUndefined();
    for (const name of ['history', 'matching', 'worker']) expect(services[name].rpc.bindOnLocalHost).toBe(true);
    expect(config.global.membership.broadcastAddress).toBe('127.0.0.1');
    expect(config.global.tls.frontend.server).toEqual({ certFile: tls.serverCert, keyFile: tls.serverKey, requireClientAuth: true, clientCaFiles: [tls.ca] });
    expect(config.global.tls.frontend.client).toEqual({ serverName: 'localhost', rootCaFiles: [tls.ca] });
    expect(config.global.tls.systemWorker).toEqual({ certFile: tls.clientCert, keyFile: tls.clientKey, client: { serverName: 'localhost', rootCaFiles: [tls.ca] } });
    const ui = parse(renderUiConfig({ frontendPort: 30_000, uiPort: 31_000, namespace: 'lab', tls }));
    expect(ui.tls).toEqual({ caFile: tls.ca, certFile: tls.clientCert, keyFile: tls.clientKey, serverName: 'localhost', enableHostVerification: true });
  });

  it('keeps its files under LAB_HOME/cluster, and under root a data folder outside it per LAB_HOME', () => {
    expect(clusterPaths({ LAB_HOME: '/srv/lab' }).stateFile).toBe('/srv/lab/cluster/cluster.json');
    expect(rootFallbackDataDir({ LAB_HOME: '/srv/a' })).not.toBe(rootFallbackDataDir({ LAB_HOME: '/srv/b' }));
    expect(rootFallbackDataDir({ LAB_HOME: '/srv/a' })).toMatch(/^\/var\/lib\/durable-lab\/postgres-[0-9a-f]{12}$/);
  });

  it('refuses bad input with one line and exit 2, before anything is made', () => {
    const refusal = (...argv: string[]) => {
      try {
        parseCommandArgs(clusterCommand, argv);
      } catch (err) {
        expect((err as CliError).exitCode).toBe(2);
        return (err as Error).message.split('\n')[0];
      }
      throw new Error(`lab cluster ${argv.join(' ')} was accepted`);
    };
    expect(refusal('up', '--shards', '0')).toBe('--shards must be a whole number from 1 to 16384, got "0"');
    expect(refusal('up', '--shards', '4.5')).toMatch(/--shards must be a whole number/);
    // The server keeps membership ports (--port + 4 to + 7) in a PostgreSQL smallint.
    expect(refusal('up', '--port', '32761')).toBe('--port must be a whole number from 1024 to 32760, got "32761"');
    expect(refusal('up', '--no-ui', '--ui-port', '9000')).toBe('--ui-port and --no-ui contradict each other');
    expect(refusal('up', '--retention', '2h')).toMatch(/--retention must be at least 1d/);
    expect(refusal('down', '--shards', '4')).toBe('--shards does not apply to lab cluster down');
    expect(refusal('restart')).toBe('action must be one of up, down, status, install, got "restart"');
    expect(refusal()).toBe('missing action: one of up, down, status, install');
    expect(parseCommandArgs(clusterCommand, ['up', '--shards', '8', '--port', '17233'])).toMatchObject({ action: 'up', shards: 8, port: 17_233 });
    expect(refusal('up', '--listen', 'lab.example.org')).toBe('--listen must be an IP address of this host (0.0.0.0 for all of them), got "lab.example.org"');
    expect(refusal('up', '--tls-host', 'lab.example.org')).toMatch(/--tls-host names the TLS certificate: it applies with --tls or a --listen address other than 127.0.0.1/);
    expect(refusal('up', '--tls', '--tls-host', 'a b')).toMatch(/--tls-host takes host names or IP addresses/);
    expect(refusal('status', '--tls')).toBe('--tls does not apply to lab cluster status');
    expect(refusal('up', '--new-certificates')).toMatch(/--new-certificates makes the TLS certificates again: it applies with --tls or a --listen address other than 127.0.0.1/);
    expect(refusal('down', '--new-certificates')).toBe('--new-certificates does not apply to lab cluster down');
    expect(parseCommandArgs(clusterCommand, ['up', '--tls', '--new-certificates'])).toMatchObject({ tls: true, 'new-certificates': true });
    expect(parseCommandArgs(clusterCommand, ['up', '--listen', '0.0.0.0', '--tls-host', 'lab.example.org,10.0.0.5'])).toMatchObject({ listen: '0.0.0.0', 'tls-host': ['lab.example.org', '10.0.0.5'] });
  });
});
