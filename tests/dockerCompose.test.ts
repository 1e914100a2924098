/**
 * docker-compose.yml, checked as well as it can be without a Docker engine:
 * - against the Compose Specification's JSON schema (as the dclint package ships it);
 * - against what this project needs of it: every worker pool finds Temporal and the S3 store
 *   and shares nothing else (no volume), pools scale with `--scale` (no container name, no fixed
 *   host port), provider keys reach only the LLM pool, the registered search attributes are the
 *   ones the workflows upsert, and the worker image holds every folder the workers read;
 * - with its one-shot scripts run for real: the bucket job against the Versity S3 Gateway started
 *   with the `s3` service's own command line, the namespace job against a Temporal dev server.
 * Each project check is also run on a broken copy of the file, so each is known to be able to fail.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Ajv } from 'ajv';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHEATS_DIR } from '../activities/competition/audit/index.js';
import { COMPETITIONS_DIR } from '../activities/competition/paths.js';
import { EXAMPLE_TASKS_DIR, PROJECT_ROOT, RUBRICS_DIR, temporalBinary } from '../activities/config.js';
import { S3ArtifactStore } from '../activities/store/s3Store.js';
import { s3SettingsFrom } from '../activities/store/open.js';
import { PROVIDERS } from '../common/modelSpec.js';
import { DEFAULT_WORKER_QUEUES, LLM_QUEUES, parseQueues } from '../common/queues.js';
import { LAB_SEARCH_ATTRIBUTES } from '../common/searchAttributes.js';
import { WORKFLOWS_PATH } from '../workers/createWorkers.js';
import { waitForPort } from '../scripts/lib/devServer.js';
import { freePort, sigkill } from './helpers/labProcesses.js';
import { VERSITYGW } from './helpers/s3Server.js';
import { waitFor } from './helpers/wait.js';

type Env = Record<string, string | undefined>;
interface Service {
  image?: string;
  build?: string | { context?: string; target?: string };
  container_name?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: unknown;
  ports?: (string | number | { published?: string | number })[];
  volumes?: (string | { type?: string; source?: string })[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[] };
  entrypoint?: string | string[];
  command?: string | string[];
}
interface Compose {
  services: Record<string, Service>;
}

const COMPOSE_TEXT = readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
const DOCKERFILE = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
/** YAML merge keys (`<<: *worker-env`) resolved, as Docker Compose reads them. */
const loadCompose = (text: string): Compose => parse(text, { merge: true }) as Compose;
const COMPOSE = loadCompose(COMPOSE_TEXT);
const copyOf = (): Compose => structuredClone(COMPOSE);

/** What a worker needs besides Temporal to find the artifact store (activities/store/open.ts). */
const STORE_VARIABLES = ['LAB_S3_BUCKET', 'LAB_S3_ENDPOINT', 'LAB_S3_PREFIX', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'];
/** Every LLM provider's key variable (`openai-compatible` → OPENAI_COMPATIBLE_API_KEY); the embedded model has none. */
const PROVIDER_KEYS = PROVIDERS.filter((p) => p !== 'embedded').map((p) => `${p.toUpperCase().replace(/-/g, '_')}_API_KEY`);

// ---- Compose semantics this test needs: environment lists, interpolation, ports, volumes ----

function environmentOf(service: Service): Env {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0], e.includes('=') ? e.slice(e.indexOf('=') + 1) : undefined]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

/** Compose's interpolation from the host's environment: `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `$NAME`, `$$`. */
function interpolate(value: string, host: Env): string {
  return value.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_]\w*)/g, (whole, name?: string, op?: string, fallback?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const key = (name ?? bare)!;
    const set = host[key];
    if (op === ':-') return set ? set : (fallback ?? '');
    if (op === '-') return set !== undefined ? set : (fallback ?? '');
    return set ?? '';
  });
}

function resolvedEnv(service: Service, host: Env = {}): Env {
  return Object.fromEntries(Object.entries(environmentOf(service)).map(([k, v]) => [k, v === undefined ? host[k] : interpolate(v, host)]));
}

/** Every variable the file reads from the host, each set to a value of its own: a check under it sees where each setting comes from. */
function customHostEnv(): Env {
  const names = new Set([...COMPOSE_TEXT.matchAll(/\$\{([A-Za-z_]\w*)/g)].map((m) => m[1]));
  return Object.fromEntries([...names].map((n) => [n, `custom-${n.toLowerCase().replace(/_/g, '-')}`]));
}

/** The host port a `ports` entry publishes, or undefined when Docker picks one (so replicas do not collide). */
function fixedHostPort(entry: string | number | { published?: string | number }): string | undefined {
  if (typeof entry === 'object') return entry.published === undefined ? undefined : String(entry.published);
  const parts = String(entry).split('/')[0].split(':');
  return parts.length >= 2 ? parts[parts.length - 2] || undefined : undefined;
}

/** A volume with a source (a named volume or a host folder) is shared by every container that mounts it, replicas included. */
function volumeSource(entry: string | { type?: string; source?: string }): string | undefined {
  if (typeof entry === 'object') return entry.type === 'tmpfs' ? undefined : entry.source;
  const parts = entry.split(':');
  return parts.length >= 2 ? parts[0] : undefined;
}

function dependsOn(service: Service): Record<string, string> {
  const d = service.depends_on ?? {};
  return Array.isArray(d) ? Object.fromEntries(d.map((n) => [n, 'service_started'])) : Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v.condition]));
}

function imageTag(image: string): string | undefined {
  const last = image.split('/').pop()!;
  return last.includes(':') ? last.split(':')[1] : undefined;
}

/** The script of a one-shot service run as `/bin/sh -c <script>`, as the shell inside the container receives it. */
function shellScript(service: Service): string | undefined {
  const entry = ([] as string[]).concat(service.entrypoint ?? []);
  if (entry.join(' ') !== '/bin/sh -c') return undefined;
  return interpolate(([] as string[]).concat(service.command ?? []).join(' '), {});
}

/** The lab's own services: those built from this repository's Dockerfile. */
const workerNames = (c: Compose) => Object.keys(c.services).filter((n) => c.services[n].build !== undefined);
const queuesOf = (s: Service) => parseQueues(environmentOf(s).LAB_WORKER_QUEUES ?? '');
const hostOf = (address: string) => address.replace(/^\w+:\/\//, '').split(/[:/]/)[0];

// ---- The checks ----

const SCHEMA = (() => {
  const require = createRequire(import.meta.url);
  const file = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
  // The schema names draft-07 by an https URL that Ajv does not know by that name; draft-07 is Ajv's own default.
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(file, 'utf8'));
  // strict: false because the specification uses annotations (`deprecated`) that Ajv's strict mode refuses.
  return new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
})();

function schemaErrors(compose: unknown): string[] {
  if (SCHEMA(compose)) return [];
  return (SCHEMA.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${e.params.additionalProperty}` : ''}`);
}

/** Top-level folders the workers import (workers/main.ts and the workflow bundle) or read at run time. */
async function foldersWorkersNeed(): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(PROJECT_ROOT, 'workers', 'main.ts'), WORKFLOWS_PATH],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    outdir: os.tmpdir(),
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'silent',
  });
  const imported = Object.keys(result.metafile.inputs).map((f) => f.split('/')[0]);
  const read = [RUBRICS_DIR, EXAMPLE_TASKS_DIR, COMPETITIONS_DIR, CHEATS_DIR].map((d) => path.relative(PROJECT_ROOT, d).split(path.sep)[0]);
  return [...new Set([...imported, ...read])].sort();
}

function projectProblems(c: Compose, dockerfile: string, neededFolders: string[]): string[] {
  const problems: string[] = [];
  const services = c.services;
  const workers = workerNames(c);
  if (!workers.length) problems.push('no service builds the lab worker image');
  const stages = new Set([...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]));
  const custom = customHostEnv();

  // One job registers the search attributes, as common/searchAttributes.ts defines them.
  const saJobs = Object.keys(services).filter((n) => environmentOf(services[n]).LAB_SEARCH_ATTRIBUTES !== undefined);
  if (saJobs.length !== 1) problems.push(`expected one service that registers LAB_SEARCH_ATTRIBUTES, found ${saJobs.length}`);
  else {
    const registered = (environmentOf(services[saJobs[0]]).LAB_SEARCH_ATTRIBUTES ?? '').trim().split(/\s+/).sort();
    const wanted = LAB_SEARCH_ATTRIBUTES.map((k) => `${k.name}=${k.type.charAt(0)}${k.type.slice(1).toLowerCase()}`).sort();
    if (registered.join(' ') !== wanted.join(' ')) problems.push(`search attributes registered (${registered.join(' ')}) are not common/searchAttributes.ts's (${wanted.join(' ')})`);
  }
  const bucketJobs = Object.keys(services).filter((n) => shellScript(services[n])?.includes('create-bucket'));
  if (bucketJobs.length !== 1) problems.push(`expected one service that creates the bucket, found ${bucketJobs.length}`);

  const served = new Set<string>();
  for (const name of workers) {
    const w = services[name];
    const env = environmentOf(w);
    const at = `${name}:`;
    let queues: string[] = [];
    try {
      queues = queuesOf(w);
      queues.forEach((q) => served.add(q));
    } catch (err) {
      problems.push(`${at} LAB_WORKER_QUEUES: ${(err as Error).message}`);
    }
    // --scale makes copies of the service: a fixed name or host port would collide.
    if (w.container_name) problems.push(`${at} container_name stops --scale`);
    for (const p of w.ports ?? []) if (fixedHostPort(p)) problems.push(`${at} fixed host port ${fixedHostPort(p)} stops --scale`);
    if (w.env_file) problems.push(`${at} env_file hides what the service gets`);
    // Nothing shared but Temporal and the store: a named volume or host folder is shared by replicas and pools.
    for (const v of w.volumes ?? []) if (volumeSource(v)) problems.push(`${at} volume ${volumeSource(v)} would be shared (the store is the only shared place)`);
    if (env.LAB_ARTIFACT_DIR !== undefined) problems.push(`${at} LAB_ARTIFACT_DIR names a local artifact folder`);

    if (!env.TEMPORAL_ADDRESS) problems.push(`${at} no TEMPORAL_ADDRESS`);
    else if (!services[hostOf(env.TEMPORAL_ADDRESS)]) problems.push(`${at} TEMPORAL_ADDRESS ${env.TEMPORAL_ADDRESS} is not a service here`);
    for (const v of STORE_VARIABLES) if (!(v in env)) problems.push(`${at} no ${v}`);
    let store: ReturnType<typeof s3SettingsFrom> = undefined;
    try {
      store = s3SettingsFrom(resolvedEnv(w));
    } catch (err) {
      problems.push(`${at} store settings: ${(err as Error).message}`);
    }
    if (!store) problems.push(`${at} the store is not S3 (LAB_S3_BUCKET unset or LAB_STORE=local)`);
    else {
      const gateway = services[hostOf(store.endpoint ?? '')];
      if (!gateway) problems.push(`${at} LAB_S3_ENDPOINT ${store.endpoint} is not a service here`);
      else {
        // The workers' key must be the gateway's root key and the bucket the one the job creates, whatever the host sets.
        for (const host of [{}, custom]) {
          const mine = resolvedEnv(w, host);
          const its = resolvedEnv(gateway, host);
          if (mine.AWS_ACCESS_KEY_ID !== its.ROOT_ACCESS_KEY_ID || mine.AWS_SECRET_ACCESS_KEY !== its.ROOT_SECRET_ACCESS_KEY)
            problems.push(`${at} AWS credentials are not the S3 gateway's root key${host === custom ? ' when the host sets its variables' : ''}`);
          if (mine.AWS_REGION !== its.VGW_REGION) problems.push(`${at} AWS_REGION ${mine.AWS_REGION} is not the gateway's region ${its.VGW_REGION}`);
          if (bucketJobs.length === 1 && mine.LAB_S3_BUCKET !== resolvedEnv(services[bucketJobs[0]], host).LAB_S3_BUCKET)
            problems.push(`${at} LAB_S3_BUCKET is not the bucket ${bucketJobs[0]} creates${host === custom ? ' when the host sets its variables' : ''}`);
        }
      }
    }

    // Provider keys live on the LLM pool only, and that pool gets every one of them.
    const keys = PROVIDER_KEYS.filter((k) => k in env);
    const llmOnly = queues.length > 0 && queues.every((q) => (LLM_QUEUES as string[]).includes(q));
    if (!llmOnly && keys.length) problems.push(`${at} provider keys ${keys.join(', ')} outside the LLM pool`);
    if (llmOnly && keys.length !== PROVIDER_KEYS.length) problems.push(`${at} the LLM pool lacks ${PROVIDER_KEYS.filter((k) => !keys.includes(k)).join(', ')}`);

    // Workers poll the namespace whose search attributes the job registered (`default` when unset).
    if (saJobs.length === 1) {
      const registeredIn = environmentOf(services[saJobs[0]]).TEMPORAL_NAMESPACE ?? 'default';
      if ((env.TEMPORAL_NAMESPACE ?? 'default') !== registeredIn) problems.push(`${at} TEMPORAL_NAMESPACE ${env.TEMPORAL_NAMESPACE} is not ${registeredIn}, where ${saJobs[0]} registers the search attributes`);
    }
    const deps = dependsOn(w);
    for (const job of [...saJobs, ...bucketJobs])
      if (deps[job] !== 'service_completed_successfully') problems.push(`${at} does not wait for ${job} to complete`);
    // Without a target, `docker build` makes the Dockerfile's last stage, whatever it is.
    const target = typeof w.build === 'object' ? w.build.target : undefined;
    if (!target) problems.push(`${at} build names no Dockerfile target`);
    else if (!stages.has(target)) problems.push(`${at} build target ${target} is not a Dockerfile stage`);
  }
  for (const name of Object.keys(services))
    if (!workers.includes(name)) {
      const keys = PROVIDER_KEYS.filter((k) => k in environmentOf(services[name]));
      if (keys.length) problems.push(`${name}: provider keys ${keys.join(', ')} outside the LLM pool`);
    }
  const missing = parseQueues(DEFAULT_WORKER_QUEUES).filter((q) => !served.has(q));
  if (missing.length) problems.push(`no worker serves ${missing.join(', ')}`);

  for (const [name, s] of Object.entries(services)) {
    for (const [dep, condition] of Object.entries(dependsOn(s))) {
      if (!services[dep]) problems.push(`${name}: depends on ${dep}, which is not a service`);
      else if (condition === 'service_healthy' && !services[dep].healthcheck) problems.push(`${name}: waits for ${dep} to be healthy, which has no healthcheck`);
    }
    if (s.image && (!imageTag(s.image) || imageTag(s.image) === 'latest')) problems.push(`${name}: image ${s.image} is not pinned to a version`);
  }
  // The schema tool must be the server's own version: it brings the database to that version's schema.
  const server = Object.values(services).find((s) => s.image?.startsWith('temporalio/server:'));
  for (const [name, s] of Object.entries(services))
    if (server && s.image?.startsWith('temporalio/admin-tools:') && imageTag(s.image) !== imageTag(server.image!))
      problems.push(`${name}: admin-tools ${imageTag(s.image)} is not the server's version ${imageTag(server.image!)}`);

  for (const folder of neededFolders) if (!new RegExp(`^COPY ${folder} \\./${folder}$`, 'm').test(dockerfile)) problems.push(`Dockerfile: the workers need ${folder}/ but it is not copied`);
  const cmd = /^CMD (.+)$/m.exec(dockerfile);
  if (!cmd || !existsSync(path.join(PROJECT_ROOT, (JSON.parse(cmd[1]) as string[]).at(-1)!))) problems.push('Dockerfile: CMD does not name an existing entry point');
  return problems;
}

// ---- Tests ----

const scratch = mkdtempSync(path.join(os.tmpdir(), 'lab-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('docker-compose.yml', () => {
  it('is a valid Compose file by the Compose Specification schema', () => {
    expect(schemaErrors(COMPOSE)).toEqual([]);
    // The schema check itself can fail: a misspelt key and an unknown dependency condition.
    const broken = copyOf();
    (broken.services['worker-llm'] as Record<string, unknown>).enviroment = {};
    (broken.services.temporal.depends_on as Record<string, { condition: string }>)['temporal-schema'].condition = 'done';
    expect(schemaErrors(broken)).toEqual(
      expect.arrayContaining(['/services/worker-llm must NOT have additional properties: enviroment', expect.stringContaining('/condition must be equal to one of the allowed values')]),
    );
  });

  let needed: string[] = [];
  beforeAll(async () => {
    needed = await foldersWorkersNeed();
  });

  it('meets what the project needs of it', () => {
    expect(needed).toEqual(expect.arrayContaining(['activities', 'common', 'workers', 'workflows', 'rubrics', 'tasks']));
    expect(projectProblems(COMPOSE, DOCKERFILE, needed)).toEqual([]);
    expect(workerNames(COMPOSE).map((n) => [n, environmentOf(COMPOSE.services[n]).LAB_WORKER_QUEUES])).toEqual([
      ['worker-research', 'research,literature'],
      ['worker-llm', 'llm'],
      ['worker-sandbox', 'sandbox'],
    ]);
  });

  // Each check on a copy broken the way it guards against: the check must name the fault.
  const broken: [string, (c: Compose) => string | void, string][] = [
    ['a worker without TEMPORAL_ADDRESS', (c) => void delete (c.services['worker-sandbox'].environment as Env).TEMPORAL_ADDRESS, 'worker-sandbox: no TEMPORAL_ADDRESS'],
    ['a worker without a store variable', (c) => void delete (c.services['worker-llm'].environment as Env).AWS_REGION, 'worker-llm: no AWS_REGION'],
    ['a worker on the local store', (c) => void delete (c.services['worker-research'].environment as Env).LAB_S3_BUCKET, 'worker-research: the store is not S3'],
    ['workers sharing an artifact volume', (c) => void (c.services['worker-sandbox'].volumes = ['./.lab:/data']), 'worker-sandbox: volume ./.lab would be shared'],
    ['a named volume on a scaled pool', (c) => void (c.services['worker-llm'].volumes = [{ type: 'volume', source: 'lab-data' }]), 'worker-llm: volume lab-data would be shared'],
    ['a worker with a container name', (c) => void (c.services['worker-sandbox'].container_name = 'lab-sandbox'), 'worker-sandbox: container_name stops --scale'],
    ['a worker with a fixed host port', (c) => void (c.services['worker-sandbox'].ports = ['9464:9464']), 'worker-sandbox: fixed host port 9464 stops --scale'],
    ['a provider key on the sandbox pool', (c) => void ((c.services['worker-sandbox'].environment as Env).OPENAI_API_KEY = '${OPENAI_API_KEY:-}'), 'worker-sandbox: provider keys OPENAI_API_KEY outside the LLM pool'],
    ['a provider key on the server', (c) => void ((c.services.temporal.environment as Env).ANTHROPIC_API_KEY = 'x'), 'temporal: provider keys ANTHROPIC_API_KEY outside the LLM pool'],
    ['the LLM pool without a provider key', (c) => void delete (c.services['worker-llm'].environment as Env).OPENROUTER_API_KEY, 'worker-llm: the LLM pool lacks OPENROUTER_API_KEY'],
    ['a search attribute missing', (c) => void ((c.services['temporal-setup'].environment as Env).LAB_SEARCH_ATTRIBUTES = 'LabTask=Keyword LabModel=Keyword'), 'are not common/searchAttributes.ts'],
    ['a search attribute of the wrong type', (c) => {
      const env = c.services['temporal-setup'].environment as Env;
      env.LAB_SEARCH_ATTRIBUTES = env.LAB_SEARCH_ATTRIBUTES!.replace('LabStage=Keyword', 'LabStage=Text');
    }, 'are not common/searchAttributes.ts'],
    ['workers keyed differently from the gateway', (c) => void ((c.services['worker-sandbox'].environment as Env).AWS_SECRET_ACCESS_KEY = '${AWS_SECRET_ACCESS_KEY:-lab-local-secret}'), "worker-sandbox: AWS credentials are not the S3 gateway's root key when the host sets its variables"],
    ['a bucket other than the one created', (c) => void ((c.services['worker-research'].environment as Env).LAB_S3_BUCKET = 'other-bucket'), 'worker-research: LAB_S3_BUCKET is not the bucket s3-bucket creates'],
    ['a pool on another namespace', (c) => void ((c.services['worker-llm'].environment as Env).TEMPORAL_NAMESPACE = 'lab'), 'worker-llm: TEMPORAL_NAMESPACE lab is not default, where temporal-setup registers'],
    ['a queue nobody serves', (c) => void ((c.services['worker-research'].environment as Env).LAB_WORKER_QUEUES = 'research'), 'no worker serves literature'],
    ['a worker that starts before the bucket exists', (c) => void delete (c.services['worker-llm'].depends_on as Record<string, unknown>)['s3-bucket'], 'worker-llm: does not wait for s3-bucket'],
    ['a build without a target', (c) => void (c.services['worker-research'].build = '.'), 'worker-research: build names no Dockerfile target'],
    ['an unpinned image', (c) => void (c.services['temporal-ui'].image = 'temporalio/ui:latest'), 'temporal-ui: image temporalio/ui:latest is not pinned'],
    ['a schema tool of another version', (c) => void (c.services['temporal-schema'].image = 'temporalio/admin-tools:1.31.0'), "temporal-schema: admin-tools 1.31.0 is not the server's version"],
    ['a wait for a health check that does not exist', (c) => void delete c.services.s3.healthcheck, 's3-bucket: waits for s3 to be healthy, which has no healthcheck'],
  ];
  it.each(broken)('finds %s', (_what, breakIt, expected) => {
    const c = copyOf();
    breakIt(c);
    expect(projectProblems(c, DOCKERFILE, needed).join('\n')).toContain(expected);
  });

  it('finds a worker image that lacks a folder the workers read', () => {
    expect(projectProblems(COMPOSE, DOCKERFILE.replace(/^COPY rubrics .*$/m, ''), needed)).toContain('Dockerfile: the workers need rubrics/ but it is not copied');
  });

  it("one-shot scripts are valid POSIX shell (the images' sh)", () => {
    const scripts = Object.entries(COMPOSE.services).flatMap(([n, s]) => (shellScript(s) ? [[n, shellScript(s)!] as const] : []));
    expect(scripts.map(([n]) => n).sort()).toEqual(['s3-bucket', 'temporal-schema', 'temporal-setup']);
    for (const [name, script] of scripts) {
      const r = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
    }
    expect(spawnSync('sh', ['-n', '-c', 'if then fi']).status).not.toBe(0);
  });
});

/** Points `svc:port` and `http://svc:port` at the local process that stands in for that service. */
function onThisHost(env: Env, ports: Record<string, number>): Env {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v?.replace(/^(\w+:\/\/)?([a-z][\w-]*):\d+$/, (whole, scheme = '', host: string) => (ports[host] ? `${scheme}127.0.0.1:${ports[host]}` : whole))]),
  );
}

function runScript(script: string, env: Env): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('docker-compose.yml run for real, without Docker', () => {
  it('the s3 service, its bucket job and every pool share one store through the real S3 gateway', async () => {
    const s3 = COMPOSE.services.s3;
    const port = await freePort();
    // The volume the service mounts there (Docker makes it; the gateway needs it to exist).
    const dataDir = path.join(scratch, 's3-data');
    mkdirSync(dataDir);
    const targets = (s3.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : ''));
    // The service's own command line; only its listen address and volume become local ones.
    const args = ([] as string[]).concat(s3.command ?? []).map((a, i, all) => (all[i - 1] === '--port' ? `127.0.0.1:${port}` : targets.includes(a) ? dataDir : a));
    const gateway = spawn(VERSITYGW, args, { env: { PATH: process.env.PATH, ...resolvedEnv(s3) } as NodeJS.ProcessEnv, stdio: 'ignore' });
    try {
      const health = new URL(([] as string[]).concat(s3.healthcheck?.test ?? []).find((a) => a.startsWith('http'))!);
      health.host = `127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(health).catch(() => undefined))?.status === 200, 'the S3 gateway health check', 20_000);

      const ports = { s3: port };
      const jobEnv = { PATH: `${path.dirname(VERSITYGW)}:${process.env.PATH}`, ...onThisHost(resolvedEnv(COMPOSE.services['s3-bucket']), ports) };
      const script = shellScript(COMPOSE.services['s3-bucket'])!;
      const first = await runScript(script, jobEnv);
      expect(first, first.output).toMatchObject({ code: 0, output: expect.stringContaining('bucket lab-artifacts created') });
      // `docker compose up` runs the job again each time: the bucket is kept.
      const again = await runScript(script, jobEnv);
      expect(again, again.output).toMatchObject({ code: 0, output: expect.stringContaining('bucket lab-artifacts is there') });

      // Each pool opens the store its environment names (credentials as the AWS SDK reads them there).
      const stores = Object.fromEntries(
        workerNames(COMPOSE).map((name) => {
          const env = onThisHost(resolvedEnv(COMPOSE.services[name]), ports);
          const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
          return [name, new S3ArtifactStore({ ...s3SettingsFrom(env)!, credentials })];
        }),
      );
      const ref = await stores['worker-sandbox'].put('compose-check', 'results/metrics.csv', 'step,loss\n1,0.5\n');
      expect(await stores['worker-research'].getText(ref)).toBe('step,loss\n1,0.5\n');
      expect(String(await stores['worker-llm'].readRunFile('compose-check', 'results/metrics.csv'))).toBe('step,loss\n1,0.5\n');
    } finally {
      await sigkill(gateway);
    }
  }, 60_000);

  it('the setup job registers the namespace and the search attributes on a real Temporal server, and reruns harmlessly', async () => {
    const port = await freePort();
    const server = spawn(temporalBinary(), ['server', 'start-dev', '--headless', '--port', String(port), '--log-level', 'error'], { stdio: 'ignore' });
    try {
      await waitForPort(port, 30_000, server);
      const job = COMPOSE.services['temporal-setup'];
      // A namespace the dev server does not make by itself, as a fresh cluster has none.
      const namespace = 'lab-compose-check';
      const env = { PATH: `${path.dirname(temporalBinary())}:${process.env.PATH}`, ...onThisHost(resolvedEnv(job), { temporal: port }), TEMPORAL_NAMESPACE: namespace };
      const script = shellScript(job)!;
      const first = await runScript(script, env);
      expect(first.code, first.output).toBe(0);
      const again = await runScript(script, env);
      expect(again.code, again.output).toBe(0);

      const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        for (const key of LAB_SEARCH_ATTRIBUTES)
          expect(customAttributes?.[key.name], key.name).toBe(proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
        const described = await connection.workflowService.describeNamespace({ namespace });
        expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);
      } finally {
        await connection.close();
      }
    } finally {
      await sigkill(server);
    }
  }, 90_000);
});
