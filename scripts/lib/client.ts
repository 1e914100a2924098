import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { connectionOptions, SettingError, temporalTarget, unreachableHint, type TemporalTarget } from '../../workers/env.js';
import { cliTracing } from './cliTracing.js';
import { EXIT } from './exitCodes.js';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** The connection settings (profile, TEMPORAL_* variables); a wrong one is a usage error naming it. */
export function cliTemporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  try {
    return temporalTarget(env);
  } catch (err) {
    if (err instanceof SettingError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

export async function connectClient(): Promise<{ client: Client; close: () => Promise<void>; address: string }> {
  const target = cliTemporalTarget();
  // With OTEL_EXPORTER_OTLP_ENDPOINT set, a run's trace starts at the command that started it.
  const tracing = await cliTracing();
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(target), connectTimeout: '5s' });
  } catch (err) {
    throw new CliError(`cannot reach Temporal at ${target.address} (${(err as Error).message.split('\n')[0]}); ${unreachableHint(target)}`);
  }
  return {
    client: new Client({ connection, namespace: target.namespace, ...(tracing ? { interceptors: { workflow: tracing.clientInterceptors } } : {}) }),
    close: () => connection.close(),
    address: target.address,
  };
}

/** Turns "workflow not found" into a message about run ids. */
export function explainNotFound(err: unknown, runId: string, what: 'run' | 'benchmark' = 'run'): never {
  if (err instanceof WorkflowNotFoundError || /not found/i.test((err as Error)?.message ?? '')) {
    throw new CliError(what === 'run' ? `no run with id "${runId}" (see \`lab list\`)` : `no benchmark with id "${runId}" (its id was printed by lab bench; the Temporal UI lists them: LabKind = "benchmark")`);
  }
  throw err;
}

/** The workflow type behind an id (researchRun, competitionRun, review, ...); a missing id is one line, exit 1. */
export async function workflowType(client: import('@temporalio/client').Client, id: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(id).describe()).type;
  } catch (err) {
    return explainNotFound(err, id);
  }
}
