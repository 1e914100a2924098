/**
 * The Temporal databases on the cluster's PostgreSQL, made with the server's own SQL tool: the
 * `temporal` (history, shards, tasks) and `temporal_visibility` (workflow lists, search attributes)
 * databases, their versioning tables (setup-schema -v 0.0), then every versioned step up to the
 * tool's release (update-schema). The schema files are the ones embedded in the tool, i.e. the
 * module source's schema/postgresql/v12/{temporal,visibility}/versioned folders at the pinned version.
 */
import { ClusterError } from './errors.js';
import { runCollecting } from './processes.js';
import { POSTGRES_ROLE } from './postgres.js';

export const TEMPORAL_DATABASE = 'temporal';
export const VISIBILITY_DATABASE = 'temporal_visibility';

const SCHEMAS: Array<{ database: string; schemaName: string }> = [
  { database: TEMPORAL_DATABASE, schemaName: 'postgresql/v12/temporal' },
  { database: VISIBILITY_DATABASE, schemaName: 'postgresql/v12/visibility' },
];

interface Connection {
  sqlTool: string;
  port: number;
  password: string;
}

function sqlTool(c: Connection, database: string, args: string[]): Promise<{ code: number; text: string }> {
  const connection = ['--plugin', 'postgres12', '--endpoint', '127.0.0.1', '--port', String(c.port), '--user', POSTGRES_ROLE, '--database', database];
  // The password through the environment, not the command line (which `ps` shows to every user).
  return runCollecting(c.sqlTool, [...connection, ...args], { ...process.env, SQL_PASSWORD: c.password });
}

function failure(step: string, r: { code: number; text: string }): ClusterError {
  const tail = r.text.trim().split('\n').slice(-4).join('\n  ');
  return new ClusterError(`temporal-sql-tool ${step} failed (exit ${r.code}):\n  ${tail}`);
}

/** Creates both databases and their schemas from nothing. */
export async function createSchemas(c: Connection, log: (line: string) => void): Promise<void> {
  for (const { database, schemaName } of SCHEMAS) {
    log(`creating database ${database} and its schema (${schemaName})`);
    let r = await sqlTool(c, database, ['create-database']);
    // A database left by an earlier up that stopped half-way: keep it, the steps below are idempotent.
    if (r.code !== 0 && !/already exists/i.test(r.text)) throw failure(`create-database ${database}`, r);
    r = await sqlTool(c, database, ['setup-schema', '-v', '0.0']);
    if (r.code !== 0 && !/already exists/i.test(r.text)) throw failure(`setup-schema ${database}`, r);
    r = await sqlTool(c, database, ['update-schema', '--schema-name', schemaName]);
    if (r.code !== 0) throw failure(`update-schema ${database}`, r);
  }
}

/** Brings existing schemas up to the tool's version (nothing to do when they are there already). */
export async function updateSchemas(c: Connection): Promise<void> {
  for (const { database, schemaName } of SCHEMAS) {
    const r = await sqlTool(c, database, ['update-schema', '--schema-name', schemaName]);
    if (r.code !== 0) throw failure(`update-schema ${database}`, r);
  }
}
