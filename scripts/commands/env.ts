/** `lab env serve`: the Gym-style HTTP server over environment sessions (docs/gym.md). */
import { z } from 'zod';
import { CliError, connectClient } from '../lib/client.js';
import { booleanFlag, defineCommand, flag, required } from '../lib/command.js';
import { startEnvServer } from '../lib/envServer.js';
import { nonEmptyText, port } from '../lib/options.js';
import { handleShutdown } from '../../workers/env.js';

export const envCommand = defineCommand({
  summary: 'serve competition environments over HTTP (Gym-style reset/step; each session a workflow, see docs/gym.md)',
  usage:
    'lab env serve [--port 8765] [--host 127.0.0.1] [--verbose]\n\n' +
    '  POST /reset {task} starts a session (an envSession workflow); POST /step {sessionId, action} runs one step and\n' +
    '  returns {observation, reward, done, info}; GET /sessions/<id>, GET /tasks. --host 0.0.0.0 serves other machines\n' +
    '  (there is no authentication). Clients: clients/python/lab_env.py, clients/typescript/labEnv.ts; API: docs/gym.md.',
  options: { port: { type: 'string' }, host: { type: 'string' }, verbose: { type: 'boolean' } },
  positionals: ['subcommand'],
  schema: z.object({
    subcommand: required('missing subcommand: lab env serve [--port 8765]', (v) => {
      if (v !== 'serve') throw new Error(`unknown subcommand "${v}" of lab env (subcommands: serve)`);
      return v;
    }),
    port: flag(port('--port')),
    host: flag(nonEmptyText('--host')),
    verbose: booleanFlag,
  }),
  async run(a) {
    const { client, close, address } = await connectClient();
    let server;
    try {
      server = await startEnvServer({ client, host: a.host ?? '127.0.0.1', port: a.port ?? 8765, log: a.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined });
    } catch (err) {
      await close();
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError(code === 'EADDRINUSE' ? `port ${a.port ?? 8765} is in use (choose another with --port)` : (err as Error).message);
    }
    process.stdout.write(`lab env: serving on ${server.url} (Temporal at ${address}; Ctrl-C stops; sessions stay in Temporal)\n`);
    // As `lab server` and `lab worker` do: under npx a SIGTERM reaches only npm's shell, so npm's
    // exit counts as one too; otherwise the server would live on, orphaned, holding its port.
    let removeHandlers = () => {};
    await new Promise<void>((resolve) => {
      removeHandlers = handleShutdown({
        stop(reason) {
          process.stderr.write(`lab env: stopping (${reason}); press Ctrl-C again to force\n`);
          resolve();
        },
        force() {
          process.stderr.write('lab env: forced exit\n');
        },
      });
    });
    await server.close();
    await close();
    removeHandlers();
  },
});
