/** `lab server`: the local Temporal dev server (SQLite under LAB_HOME, Web UI, search attributes registered). */
import { z } from 'zod';
import { defaultServerDbFile } from '../../activities/config.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { serveDevServer } from '../lib/devServer.js';
import { nonEmptyText, port } from '../lib/options.js';

export const serverCommand = defineCommand({
  summary: 'start the local Temporal dev server (SQLite under .lab/, UI on --port + 1000 unless --ui-port, search attributes registered)',
  usage: 'lab server [--port 7233] [--ui-port 8233] [--db .lab/temporal.db] [--verbose]',
  options: { port: { type: 'string' }, 'ui-port': { type: 'string' }, db: { type: 'string' }, verbose: { type: 'boolean' } },
  positionals: [],
  schema: z
    .object({ port: flag(port('--port')), 'ui-port': flag(port('--ui-port')), db: flag(nonEmptyText('--db')), verbose: booleanFlag })
    .refine((a) => (a.port ?? 7233) !== (a['ui-port'] ?? (a.port ?? 7233) + 1000), { message: '--port and --ui-port must differ' }),
  run: (a) =>
    serveDevServer({
      port: a.port ?? 7233,
      // The dev server's own default: the UI listens 1000 above the server port.
      uiPort: a['ui-port'] ?? (a.port ?? 7233) + 1000,
      dbFile: a.db ?? defaultServerDbFile(),
      verbose: a.verbose,
    }),
});
