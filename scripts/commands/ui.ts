/** `lab ui`: the web console (runs, a run's stages and documents, decisions at gates). */
import { z } from 'zod';
import { cliStore } from '../lib/store.js';
import { handleShutdown } from '../../workers/env.js';
import { CliError, connectClient } from '../lib/client.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { nonEmptyText, port } from '../lib/options.js';
import { runLink, uiBaseUrl } from '../lib/uiLink.js';
import { newDecisionToken } from '../ui/decisionToken.js';
import { reviewerName } from '../lib/reviewer.js';
import { startConsoleServer, type ConsoleServer } from '../ui/server.js';

/** Beside `lab env serve` (8765), away from the Temporal server (7233) and its UI (8233). */
const DEFAULT_PORT = 8780;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export const uiCommand = defineCommand({
  summary: 'web console: runs, a run’s stages and documents with flagged numbers marked, decisions at gates (--allow-decisions)',
  usage:
    `lab ui [--port ${DEFAULT_PORT}] [--host 127.0.0.1] [--allow-decisions [--token-name NAME]]\n\n` +
    '  Read-only by default. With --allow-decisions it prints a token; approve / revise / reject on a run\'s page\n' +
    '  need it once (then a cookie holds it) and are sent as lab approve --stage S --revision N sends them.\n' +
    '  Each decision is recorded in the run\'s history as made by "NAME (lab ui)" (default: LAB_REVIEWER, else\n' +
    '  your login name), never with the token; give each reviewer a console with their own name.\n' +
    '  --host 0.0.0.0 serves other machines: anyone who can reach the port can read every run.',
  options: { port: { type: 'string' }, host: { type: 'string' }, 'allow-decisions': { type: 'boolean' }, 'token-name': { type: 'string' } },
  positionals: [],
  schema: z
    .object({ port: flag(port('--port')), host: flag(nonEmptyText('--host')), 'allow-decisions': booleanFlag, 'token-name': flag(nonEmptyText('--token-name')) })
    .refine((a) => a['token-name'] === undefined || a['allow-decisions'], { message: '--token-name names who decides: it needs --allow-decisions' })
    .refine((a) => (a['token-name'] ?? '').length <= 100, { message: '--token-name is at most 100 characters' }),
  async run(a) {
    const host = a.host ?? '127.0.0.1';
    const portNumber = a.port ?? DEFAULT_PORT;
    const { client, close, address } = await connectClient();
    const token = a['allow-decisions'] ? newDecisionToken() : undefined;
    let server: ConsoleServer;
    try {
      server = await startConsoleServer({
        client,
        store: cliStore(),
        host,
        port: portNumber,
        decisionToken: token,
        decider: a['token-name'] ?? reviewerName(),
        temporalLink: (runId) => (uiBaseUrl() ? runLink(runId) : undefined),
        temporalUnreachable: (detail) => `cannot reach Temporal at ${address} (${detail}); is \`lab server\` (or your cluster) running? The console keeps serving and reconnects by itself`,
        log: (line) => process.stderr.write(`${line}\n`),
      });
    } catch (err) {
      await close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new CliError(`port ${portNumber} is in use (choose another with --port)`, EXIT.usage);
      if (code === 'EACCES') throw new CliError(`not allowed to listen on port ${portNumber} (ports below 1024 need root; choose another with --port)`, EXIT.usage);
      if (code === 'EADDRNOTAVAIL') throw new CliError(`cannot listen on --host ${host}: not an address of this machine`, EXIT.usage);
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new CliError(`cannot listen on --host ${host}: the name does not resolve`, EXIT.usage);
      throw err;
    }
    process.stdout.write(`lab ui: serving on ${server.url} (Temporal at ${address}; Ctrl-C stops)\n`);
    if (token) process.stdout.write(`lab ui: decisions allowed, recorded as made by "${a['token-name'] ?? reviewerName()} (lab ui)"; token: ${token}\n`);
    else process.stdout.write('lab ui: read-only (start with --allow-decisions to approve, revise or reject from the console)\n');
    if (!LOOPBACK.has(host)) process.stderr.write(`lab ui: warning: listening on ${host}: anyone who can reach this port can read every run${token ? ' (decisions still need the token)' : ''}\n`);
    // As `lab server` and `lab env serve`: SIGINT/SIGTERM (or npm's exit under npx) stop it cleanly.
    let removeHandlers = () => {};
    await new Promise<void>((resolve) => {
      removeHandlers = handleShutdown({
        stop(reason) {
          process.stderr.write(`lab ui: stopping (${reason}); press Ctrl-C again to force\n`);
          resolve();
        },
        force() {
          process.stderr.write('lab ui: forced exit\n');
        },
      });
    });
    await server.close();
    await close();
    removeHandlers();
  },
});
