/** Test environments on the real Temporal binaries from .venv, and in-process lab workers. */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, DefaultLogger, type Logger, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { LocalArtifactStore } from '../../activities/store/localStore.js';
import { createActivities } from '../../activities/index.js';
import { LlmGateway } from '../../activities/llm/gateway.js';
import { LAB_SEARCH_ATTRIBUTES } from '../../common/searchAttributes.js';
import { temporalBinary, timeSkippingBinary } from '../../scripts/lib/paths.js';
import { FakeLlmServer, type Script } from '../fakes/fakeLlmServer.js';
import { createLabWorkers, parseQueues, PRELOADED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../workers/createWorkers.js';

let runtimeInstalled = false;
/**
 * Keep worker logs quiet in test output unless LAB_TEST_LOGS is set. A test may pass its own
 * logger (to capture every log line) if it calls this before creating any environment.
 */
export function quietRuntime(logger?: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: logger ?? new DefaultLogger(process.env.LAB_TEST_LOGS ? 'INFO' : 'WARN') });
}

function requireBinary(p: string): string {
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`npm run setup\` before the tests`);
  return p;
}

/** `uiPort`: also serve the dev server's Temporal UI there (headless otherwise). */
export async function createDevServerEnv(options: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireBinary(temporalBinary()) },
      searchAttributes: LAB_SEARCH_ATTRIBUTES,
      ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
    },
  });
}

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireBinary(timeSkippingBinary()) } },
  });
  // The test server has no --search-attribute flag; register them through the operator API.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      LAB_SEARCH_ATTRIBUTES.map((k) => [k.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundles workflows/ once per test file as the worker does, without ignoreModules (the determinism bundle check). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, preloadModules: PRELOADED_WORKFLOW_MODULES, logger: new DefaultLogger('WARN') });
  return bundle;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `lab-${prefix}-`));
}

export interface TestLab {
  store: LocalArtifactStore;
  llm: LlmGateway;
  workers: Worker[];
  /** Resolves when all workers stopped; call `shutdown()` first. */
  running: Promise<unknown>;
  shutdown(): Promise<void>;
}

/** Starts research + llm workers in this process against `env`, with real activities. */
export async function startTestLab(
  env: TestWorkflowEnvironment,
  dir: string = tempDir('lab'),
  queues = 'all',
  /** Environment the LLM gateway reads keys and base URLs from (default: process.env). */
  llmEnv?: NodeJS.ProcessEnv,
  /** Literature backends' settings; default: none enabled (no request leaves the machine). */
  literatureEnv: NodeJS.ProcessEnv = { ...process.env, LAB_LITERATURE_BACKENDS: 'none' },
): Promise<TestLab> {
  const store = new LocalArtifactStore(path.join(dir, 'artifacts'));
  const llm = new LlmGateway({ cacheDir: path.join(dir, 'llm-cache'), env: llmEnv });
  // Sandbox workspaces of this lab live in its own folder.
  process.env.LAB_WORKSPACE_DIR ??= path.join(dir, 'workspaces');
  const workers = await createLabWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    queues: parseQueues(queues),
    activities: createActivities({ store, llm, literature: { env: literatureEnv, cacheDir: path.join(dir, 'literature-cache') } }),
    workflowBundle: await workflowBundle(),
  });
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    store,
    llm,
    workers,
    running,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    },
  };
}

export interface ScriptedLab {
  env: TestWorkflowEnvironment;
  lab: TestLab;
  /** The scripted LLM server the runs call (model `openai-compatible:<name>@${fake.openaiBaseURL}`). */
  fake: FakeLlmServer;
  teardown(): Promise<void>;
}

/** The usual test set-up: a scripted LLM server, a Temporal test server and in-process lab workers. */
export async function startScriptedLab(
  script: Script,
  options: { timeSkipping?: boolean; dir?: string; llmEnv?: (fake: FakeLlmServer) => NodeJS.ProcessEnv; literatureEnv?: NodeJS.ProcessEnv; uiPort?: number } = {},
): Promise<ScriptedLab> {
  const fake = await new FakeLlmServer(script).start();
  const env = options.timeSkipping ? await createTimeSkippingEnv() : await createDevServerEnv({ uiPort: options.uiPort });
  const lab = await startTestLab(env, options.dir, 'all', options.llmEnv?.(fake), options.literatureEnv);
  return {
    env,
    lab,
    fake,
    async teardown() {
      await lab.shutdown();
      await env.teardown();
      await fake.stop();
    },
  };
}
