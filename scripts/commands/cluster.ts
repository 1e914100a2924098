/** `lab cluster up|down|status|install`: a real Temporal cluster on PostgreSQL, on this host, without Docker. */
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { ClusterError } from '../../servers/cluster/errors.js';
import { DEFAULT_HISTORY_SHARDS, MAX_HISTORY_SHARDS, down, install, status, up, type ClusterStatus } from '../../servers/cluster/cluster.js';
import { DEFAULT_FRONTEND_PORT, DEFAULT_POSTGRES_PORT, MAX_FRONTEND_PORT, PORTS_ABOVE_FRONTEND, portRoles } from '../../servers/cluster/layout.js';
import { listenOf } from '../../servers/cluster/state.js';
import { clientEnv, isLoopback } from '../../servers/cluster/tls.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag, required } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { duration, nonEmptyText, oneOf, port, wholeNumber } from '../lib/options.js';
import { print, printJson } from '../lib/output.js';

const ACTIONS = ['up', 'down', 'status', 'install'] as const;
/** Which options each action takes; any other is refused rather than silently ignored. */
const OPTIONS_OF: Record<(typeof ACTIONS)[number], string[]> = {
  up: ['port', 'ui-port', 'no-ui', 'pg-port', 'pg-data', 'shards', 'namespace', 'retention', 'listen', 'tls', 'tls-host', 'new-certificates'],
  down: ['delete-data'],
  status: ['json'],
  install: ['no-ui'],
};

/** The server binds an IP address, not a name. */
function listenAddress(value: string): string {
  const address = value.trim();
  if (net.isIP(address) === 0) throw new Error(`--listen must be an IP address of this host (0.0.0.0 for all of them), got "${value}"`);
  return address;
}

function hostNames(value: string): string[] {
  const names = value.split(',').map((h) => h.trim()).filter(Boolean);
  const bad = names.find((h) => net.isIP(h) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h));
  if (!names.length || bad !== undefined) throw new Error(`--tls-host takes host names or IP addresses, separated by commas, got "${value}"`);
  return names;
}

const progress = (line: string) => process.stderr.write(`lab cluster: ${line}\n`);

export const clusterCommand = defineCommand({
  summary: 'a real Temporal cluster on PostgreSQL without Docker: up (install, start, register), status, down',
  usage:
    `lab cluster up [--shards ${DEFAULT_HISTORY_SHARDS}] [--port ${DEFAULT_FRONTEND_PORT}] [--ui-port <port+1000> | --no-ui] [--pg-port ${DEFAULT_POSTGRES_PORT}] [--pg-data DIR] [--namespace default] [--retention 7d]\n` +
    '                [--listen 127.0.0.1 | --listen 0.0.0.0 [--tls-host NAME,...]] [--tls] [--new-certificates]\n' +
    '       lab cluster status [--json]\n' +
    '       lab cluster down [--delete-data]\n' +
    '       lab cluster install [--no-ui]\n\n' +
    `  up builds the Temporal server, its SQL tool and the UI server with go install (once; cached), starts a private PostgreSQL\n` +
    `  under LAB_HOME/cluster, creates the schemas, starts the server on 127.0.0.1 (--port and the ${PORTS_ABOVE_FRONTEND} ports above it) and the UI,\n` +
    '  registers the namespace and the search attributes. Run it again: what runs is kept. Then: TEMPORAL_ADDRESS=127.0.0.1:<port>.\n' +
    '  --listen: where the frontend listens for workers on other hosts (an address of this host, 0.0.0.0 for all); the frontend then\n' +
    '  takes only clients with a certificate from the cluster\'s own CA (made under LAB_HOME/cluster/tls; --tls asks for it on 127.0.0.1\n' +
    '  too; --tls-host adds names the certificate answers to). up prints the TEMPORAL_TLS_* settings a worker needs.\n' +
    '  --new-certificates (after down): a new CA and certificates; the old ones are refused, every worker needs the new files.\n' +
    '  down stops them and keeps the data; --delete-data deletes the database too (every run in it).',
  options: {
    port: { type: 'string' },
    'ui-port': { type: 'string' },
    'no-ui': { type: 'boolean' },
    'pg-port': { type: 'string' },
    'pg-data': { type: 'string' },
    shards: { type: 'string' },
    namespace: { type: 'string' },
    retention: { type: 'string' },
    listen: { type: 'string' },
    tls: { type: 'boolean' },
    'tls-host': { type: 'string' },
    'new-certificates': { type: 'boolean' },
    'delete-data': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: ['action'],
  schema: z
    .object({
      action: required(`missing action: one of ${ACTIONS.join(', ')}`, oneOf('action', ACTIONS)),
      // Membership ports above 32767 do not fit the server's PostgreSQL column (see MAX_FRONTEND_PORT).
      port: flag(wholeNumber('--port', 1024, MAX_FRONTEND_PORT)),
      'ui-port': flag(port('--ui-port')),
      'no-ui': booleanFlag,
      'pg-port': flag(port('--pg-port')),
      'pg-data': flag(nonEmptyText('--pg-data')),
      shards: flag(wholeNumber('--shards', 1, MAX_HISTORY_SHARDS)),
      namespace: flag(nonEmptyText('--namespace')),
      retention: flag(duration('--retention')),
      listen: flag(listenAddress),
      tls: booleanFlag,
      'tls-host': flag(hostNames),
      'new-certificates': booleanFlag,
      'delete-data': booleanFlag,
      json: booleanFlag,
    })
    .superRefine((a, ctx) => {
      const given = Object.entries(a).filter(([k, v]) => k !== 'action' && v !== undefined && v !== false).map(([k]) => k);
      const stray = given.find((k) => !OPTIONS_OF[a.action].includes(k));
      if (stray) ctx.addIssue({ code: 'custom', message: `--${stray} does not apply to lab cluster ${a.action}` });
      if (a['no-ui'] && a['ui-port'] !== undefined) ctx.addIssue({ code: 'custom', message: '--ui-port and --no-ui contradict each other' });
      const withTls = a.tls || (a.listen !== undefined && !isLoopback(a.listen));
      if (a['tls-host'] && !withTls) ctx.addIssue({ code: 'custom', message: '--tls-host names the TLS certificate: it applies with --tls or a --listen address other than 127.0.0.1' });
      if (a['new-certificates'] && !withTls) ctx.addIssue({ code: 'custom', message: '--new-certificates makes the TLS certificates again: it applies with --tls or a --listen address other than 127.0.0.1' });
      if (a.retention !== undefined && a.retention < 86_400) ctx.addIssue({ code: 'custom', message: '--retention must be at least 1d (Temporal keeps closed runs at least a day)' });
    }),
  async run(a) {
    try {
      switch (a.action) {
        case 'up': {
          const frontend = a.port ?? DEFAULT_FRONTEND_PORT;
          const uiPort = a['no-ui'] ? null : (a['ui-port'] ?? frontend + 1000);
          const started = Date.now();
          const state = await up(
            {
              port: frontend,
              uiPort,
              pgPort: a['pg-port'] ?? DEFAULT_POSTGRES_PORT,
              historyShards: a.shards,
              namespace: a.namespace ?? 'default',
              retentionDays: Math.round((a.retention ?? 7 * 86_400) / 86_400),
              pgDataDir: a['pg-data'],
              listen: a.listen,
              tls: a.tls,
              tlsHosts: a['tls-host'],
              newCertificates: a['new-certificates'],
            },
            progress,
          );
          const namespaceVar = state.namespace === 'default' ? '' : ` TEMPORAL_NAMESPACE=${state.namespace}`;
          const exportLine = (address: string) =>
            `export ${Object.entries(state.tls ? clientEnv(address, state.tls) : { TEMPORAL_ADDRESS: address }).map(([k, v]) => `${k}=${v}`).join(' ')}${namespaceVar}`;
          const remote = state.tls && !isLoopback(listenOf(state));
          print(
            [
              `cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: Temporal ${state.temporalVersion} on ${state.address}, ${state.historyShards} history shards, namespace ${state.namespace}`,
              `  PostgreSQL ${state.postgres.version} on 127.0.0.1:${state.postgres.port}, data in ${state.postgres.dataDir}`,
              state.ui ? `  UI ${state.ui.url}` : '  no UI (see the README, "A real cluster")',
              ...(state.tls ? [`  mutual TLS: clients need a certificate from the CA in ${state.tls.dir}; the frontend answers to ${state.tls.hosts.join(', ')}`] : []),
              `  workers and lab on this host: ${exportLine(state.address)}`,
              ...(remote
                ? [
                    `  on another host: copy ${path.basename(state.tls!.ca)}, ${path.basename(state.tls!.clientCert)} and ${path.basename(state.tls!.clientKey)} from ${state.tls!.dir}, then`,
                    `    ${exportLine(`${state.tls!.hosts.find((h) => !isLoopback(h) && h !== 'localhost') ?? '<this host>'}:${state.ports.frontend}`)} (with the paths where you copied them)`,
                  ]
                : []),
            ].join('\n'),
          );
          return EXIT.ok;
        }
        case 'status': {
          const s = await status();
          if (a.json) printJson(s);
          else print(formatStatus(s));
          // Like `systemctl status`: 0 when it runs and answers, 1 otherwise (scripts can wait on it).
          return s.server.running && s.server.healthy && s.postgres.running ? EXIT.ok : EXIT.error;
        }
        case 'down': {
          const r = await down({ deleteData: a['delete-data'] }, progress);
          print(r.stopped.length ? `stopped: ${r.stopped.join(', ')}` : 'nothing was running');
          if (r.deleted.length) print(`deleted: ${r.deleted.join(', ')}`);
          return EXIT.ok;
        }
        case 'install': {
          for (const file of await install({ ui: !a['no-ui'] }, progress)) print(file);
          return EXIT.ok;
        }
      }
    } catch (err) {
      if (err instanceof ClusterError) throw new CliError(err.message, err.badInput ? EXIT.usage : EXIT.error);
      throw err;
    }
  },
});

function formatStatus(s: ClusterStatus): string {
  if (!s.recorded) {
    return [`no cluster is running here (nothing recorded in ${s.stateFile}); start one with lab cluster up`, `PostgreSQL: ${s.postgres.running ? `running (pid ${s.postgres.pid})` : 'stopped'}`].join('\n');
  }
  const st = s.state!;
  const lines = [
    `Temporal server ${st.temporalVersion}: ${s.server.running ? `running (pid ${st.server.pid})` : 'NOT RUNNING'}, ${s.server.healthy ? 'healthy' : 'not answering its health check'}`,
    `  address ${st.address} (TEMPORAL_ADDRESS), namespace ${st.namespace}, ${st.historyShards} history shards, since ${st.startedAt}`,
    `  listens on ${listenOf(st)}:${st.ports.frontend}${st.tls ? `, mutual TLS (CA and client certificate in ${st.tls.dir}; answers to ${st.tls.hosts.join(', ')})` : ''}`,
    `  log ${st.server.log}`,
    `PostgreSQL ${st.postgres.version}: ${s.postgres.running ? `running (pid ${s.postgres.pid})` : 'NOT RUNNING'} on 127.0.0.1:${st.postgres.port}${st.postgres.user ? ` as user ${st.postgres.user}` : ''}, data in ${st.postgres.dataDir}`,
    st.ui ? `Temporal UI ${st.ui.version}: ${s.ui.running ? `running (pid ${st.ui.pid})` : 'NOT RUNNING'} at ${st.ui.url}` : 'Temporal UI: none',
    'ports:',
    ...portRoles(st.ports).map((r) => `  ${String(r.port).padEnd(6)} ${r.role}`),
  ];
  return lines.join('\n');
}
