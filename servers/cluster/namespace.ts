/**
 * Talking to the cluster's frontend: is it healthy, and the namespace with the project's search
 * attributes. A fresh SQL-backed server has no `default` namespace (the dev server makes one), and
 * a namespace registered a moment ago is unknown to the frontend until its namespace cache
 * refreshes (about 10 s), so `up` waits until a call that goes through that cache succeeds.
 */
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { LAB_SEARCH_ATTRIBUTES } from '../../common/searchAttributes.js';
import { ClusterError } from './errors.js';
import { sleep } from './processes.js';
import { clientTlsOptions, type ClusterTls } from './tls.js';

const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
const GRPC_ALREADY_EXISTS = 6;

/** How `lab cluster` reaches its frontend from this host: the port, and the client certificate when TLS is on. */
export interface FrontendAccess {
  port: number;
  tls?: Pick<ClusterTls, 'ca' | 'clientCert' | 'clientKey'>;
}

async function withConnection<T>(access: FrontendAccess, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({
    address: `127.0.0.1:${access.port}`,
    connectTimeout: '2s',
    ...(access.tls ? { tls: clientTlsOptions(access.tls) } : {}),
  });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

/** True when the frontend answers its gRPC health check with SERVING. */
export async function frontendHealthy(access: FrontendAccess): Promise<boolean> {
  try {
    return await withConnection(access, async (c) => {
      const r = await c.healthService.check({ service: WORKFLOW_SERVICE });
      return r.status === proto.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
    });
  } catch {
    return false;
  }
}

/** Waits for SERVING; `alive` says whether the server process still runs (no point waiting after it died). */
export async function waitUntilHealthy(access: FrontendAccess, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new ClusterError('the Temporal server exited while starting');
    if (await frontendHealthy(access)) return;
    await sleep(500);
  }
  throw new ClusterError(`the Temporal server did not become healthy within ${timeoutMs / 1000} s`);
}

/** Registers `namespace` (kept as it is when it exists) and the project's search attributes, then waits until it can be used. */
export async function ensureNamespace(access: FrontendAccess, namespace: string, retentionDays: number, timeoutMs = 90_000): Promise<{ created: boolean; addedAttributes: string[] }> {
  return withConnection(access, async (c) => {
    let created = false;
    try {
      await c.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`),
        description: 'Durable Lab (registered by lab cluster up)',
      });
      created = true;
    } catch (err) {
      if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw new ClusterError(`could not register namespace ${namespace}: ${(err as Error).message}`);
    }
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    let addedAttributes: string[] | undefined;
    while (Date.now() < deadline) {
      try {
        addedAttributes ??= await addMissingSearchAttributes(c, namespace);
        // Goes through the frontend's namespace cache, as starting a workflow does, and names every
        // attribute: it fails until the cache knows them all.
        const query = LAB_SEARCH_ATTRIBUTES.map((k) => `${k.name} = 'lab-cluster-probe'`).join(' OR ');
        await c.workflowService.countWorkflowExecutions({ namespace, query });
        return { created, addedAttributes };
      } catch (err) {
        lastError = (err as Error).message;
        await sleep(1000);
      }
    }
    throw new ClusterError(`namespace ${namespace} was not usable within ${timeoutMs / 1000} s: ${lastError}`);
  });
}

async function addMissingSearchAttributes(c: Connection, namespace: string): Promise<string[]> {
  const existing = await c.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = LAB_SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (missing.length) {
    await c.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, indexedValueType(k.type)])),
    });
  }
  return missing.map((k) => k.name);
}

function indexedValueType(type: SearchAttributeType): proto.temporal.api.enums.v1.IndexedValueType {
  const T = proto.temporal.api.enums.v1.IndexedValueType;
  const byType: Record<SearchAttributeType, proto.temporal.api.enums.v1.IndexedValueType> = {
    [SearchAttributeType.TEXT]: T.INDEXED_VALUE_TYPE_TEXT,
    [SearchAttributeType.KEYWORD]: T.INDEXED_VALUE_TYPE_KEYWORD,
    [SearchAttributeType.INT]: T.INDEXED_VALUE_TYPE_INT,
    [SearchAttributeType.DOUBLE]: T.INDEXED_VALUE_TYPE_DOUBLE,
    [SearchAttributeType.BOOL]: T.INDEXED_VALUE_TYPE_BOOL,
    [SearchAttributeType.DATETIME]: T.INDEXED_VALUE_TYPE_DATETIME,
    [SearchAttributeType.KEYWORD_LIST]: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  };
  return byType[type];
}
