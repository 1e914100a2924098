/**
 * A benchmark sweep at scale, on real processes: a Temporal dev server (SQLite) and one lab worker
 * as child processes, an OpenAI-compatible fake LLM here that answers every call after a set
 * latency, and the 201 MLR-Bench tasks (../shared/mlrbench-tasks, else 201 written here) run
 * stepwise (idea, literature, proposal) by one agent and reviewed (idea, proposal) by two judges.
 * Prints (asserts nothing) wall time against the ideal, LLM calls, history sizes, the worker's
 * memory and where the time went; writes the figures to bench/results.md.
 *   npm run bench:sweep [-- --tasks 20 --concurrency 32 --latency-ms 200 --profile-worker <folder> --server cluster]
 * `--server cluster` runs it on `lab cluster up` (PostgreSQL, 4 history shards) in a folder of its
 * own instead of the dev server; the server's CPU is then the Temporal server's and PostgreSQL's.
 */
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { mapLimited } from '../../common/mapLimited.js';
import { clusterPaths } from '../../servers/cluster/layout.js';
import type { ClusterState } from '../../servers/cluster/state.js';
import { clusterServer, freeClusterPorts } from '../cluster/clusterServer.js';
import { benchmarkInputSchema, type BenchmarkInput, type BenchProgress, type BenchResult } from '../../common/benchmark.js';
import { startBench } from '../../scripts/lib/bench.js';
import { spawnDevServer, waitForPort } from '../../scripts/lib/devServer.js';
import { deadlockDetection } from '../../workers/deadlockDetection.js';
import { writeBenchSection } from './resultsFile.js';
import { PROJECT_ROOT } from '../../scripts/lib/paths.js';
import { benchProgressQuery } from '../../workflows/definitions.js';
import { FakeLlmServer } from '../fakes/fakeLlmServer.js';
import { scriptedReply } from '../fakes/recordedOutputs.js';
import { SHARED_DIR } from '../helpers/shared.js';
import { tempDir } from '../helpers/temporal.js';
import { freePort, sigkill, startWorkerProcess } from '../helpers/labProcesses.js';
import { historySizeBytes } from '../helpers/wait.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    'latency-ms': { type: 'string', default: '200' },
    /** Write a V8 CPU profile of the worker (a .cpuprofile file, for Chrome DevTools or speedscope) to this folder. */
    'profile-worker': { type: 'string' },
    /** `dev` (the dev server, SQLite) or `cluster` (lab cluster up: PostgreSQL, 4 history shards). */
    server: { type: 'string', default: 'dev' },
  },
});
const concurrency = positiveInt('concurrency', values.concurrency!);
if (values.server !== 'dev' && values.server !== 'cluster') throw new Error(`--server must be dev or cluster, got "${values.server}"`);
const onCluster = values.server === 'cluster';
const serverName = onCluster ? 'the cluster (Temporal server + PostgreSQL)' : 'the dev server';
const latencyMs = Number(values['latency-ms']);
if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--latency-ms must be a number ≥ 0, got "${values['latency-ms']}"`);
const TOTAL_TASKS = 201;
const wanted = values.tasks === undefined ? TOTAL_TASKS : positiveInt('tasks', values.tasks);
const command = commandLine();

/** Worker settings: high enough that the worker's slots are not what limits the sweep. */
const WORKER_ENV = {
  LAB_WORKER_QUEUES: 'all',
  LAB_LITERATURE_BACKENDS: 'none',
  LAB_LLM_CONCURRENCY: '256',
  LAB_RESEARCH_WORKFLOW_CONCURRENCY: '200',
  LAB_RESEARCH_ACTIVITY_CONCURRENCY: '200',
  LAB_LITERATURE_CONCURRENCY: '64',
  LAB_SANDBOX_CONCURRENCY: '8',
};

const dir = tempDir('sweep');
const labHome = path.join(dir, 'lab');
const children: ChildProcess[] = [];
const cleanUps: Array<() => Promise<void>> = [];
let fake: FakeLlmServer | undefined;
let workerProcess: ChildProcess | undefined;
let connection: Connection | undefined;

// ---------------------------------------------------------------- the fake LLM

/** What the fake saw: calls per model, per kind, how many at once. */
const calls = { agent: 0, judge: 0, unanswered: 0, byKind: new Map<string, number>(), inFlight: 0, maxInFlight: 0, busyMs: 0, first: 0, last: 0 };

function callKind(prompt: string, judge: boolean): string {
  if (judge) return `judge: ${/rubric (\S+)/.exec(prompt.split('\n')[0])?.[1] ?? 'other'}`;
  for (const [start, kind] of [
    ['Propose one research idea', 'idea'],
    ['Choose literature search queries', 'literature: queries'],
    ['Rank the retrieved papers', 'literature: rank'],
    ['Write a literature review', 'literature: write'],
    ['Write a full research proposal', 'proposal'],
  ] as const) {
    if (prompt.startsWith(start)) return kind;
  }
  if (/^(Experiment|Competition) step \d+ of/m.test(prompt)) return 'experiment step';
  return `other: ${prompt.slice(0, 40)}`;
}

async function startFake(): Promise<FakeLlmServer> {
  const server = await new FakeLlmServer(async (req) => {
    const judge = String(req.body?.model ?? '').startsWith('judge-');
    const kind = callKind(req.prompt, judge);
    calls.byKind.set(kind, (calls.byKind.get(kind) ?? 0) + 1);
    if (judge) calls.judge++;
    else calls.agent++;
    const now = performance.now();
    calls.first ||= now;
    calls.inFlight++;
    calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
    // The latency is served here rather than by `delayMs`, so the reply's end is counted too.
    await new Promise((r) => setTimeout(r, latencyMs));
    calls.inFlight--;
    calls.busyMs += performance.now() - now;
    calls.last = performance.now();
    const text = scriptedReply(req.prompt, req.system);
    if (text === undefined) {
      calls.unanswered++;
      return { status: 500, body: { error: { message: `the scripted model has no answer for: ${req.prompt.slice(0, 60)}` } } };
    }
    return { text };
  }).start();
  // Preflight asks for the models list: offer the agent's and both judges' model names.
  server.models = ['scripted-agent', 'judge-a', 'judge-b'];
  return server;
}

// ---------------------------------------------------------------- tasks

/** The task set: the shared MLR-Bench folder itself, a folder of its first N tasks, or tasks written here. */
function prepareTasks(): { spec: string; count: number; source: string } {
  const shared = path.join(SHARED_DIR, 'mlrbench-tasks');
  const names = existsSync(shared) ? readdirSync(shared).filter((n) => existsSync(path.join(shared, n, 'task.md'))).sort() : [];
  if (names.length >= wanted) {
    if (wanted === names.length) return { spec: shared, count: names.length, source: `MLR-Bench tasks from ${path.relative(PROJECT_ROOT, shared)}` };
    const folder = path.join(dir, 'tasks');
    for (const name of names.slice(0, wanted)) cpSync(path.join(shared, name), path.join(folder, name), { recursive: true });
    return { spec: folder, count: wanted, source: `the first ${wanted} MLR-Bench tasks of ${shared}` };
  }
  const folder = path.join(dir, 'tasks');
  for (let i = 1; i <= wanted; i++) {
    const name = `synth2025_topic${String(i).padStart(3, '0')}`;
    mkdirSync(path.join(folder, name), { recursive: true });
    writeFileSync(
      path.join(folder, name, 'task.md'),
      `# Workshop on synthetic topic ${i}\n\nThis workshop invites research on topic number ${i}: methods, theory and evaluation.\n`,
    );
  }
  const why = names.length ? `only ${names.length} MLR-Bench tasks in ${shared}` : `${shared} is absent`;
  return { spec: folder, count: wanted, source: `${wanted} synthetic tasks written to ${folder} (${why})` };
}

// ---------------------------------------------------------------- processes




const profileDir = values['profile-worker'] ? path.resolve(values['profile-worker']) : undefined;

async function startWorker(port: number): Promise<ChildProcess> {
  // The profile is written when the worker exits on its own, so stopWorker lets it finish.
  // Node refuses --cpu-prof in NODE_OPTIONS, so a preloaded script runs the inspector's profiler.
  const preload = path.join(PROJECT_ROOT, 'tests', 'bench', 'cpuProfilePreload.cjs');
  const profiling = profileDir ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(), LAB_CPU_PROFILE_DIR: profileDir } : {};
  const child = await startWorkerProcess({ port, labHome, logFile: path.join(dir, 'worker.log'), env: { ...WORKER_ENV, ...profiling } });
  children.push(child);
  workerProcess = child;
  return child;
}

/** SIGTERM and up to 60 s for a graceful exit, so a profiled worker writes its profile. */
async function stopWorkerGracefully(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => worker.once('exit', () => resolve(true)));
  worker.kill('SIGTERM');
  await Promise.race([exited, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000))]);
}

async function cleanUp(): Promise<void> {
  if (profileDir && workerProcess) await stopWorkerGracefully(workerProcess);
  await connection?.close().catch(() => undefined);
  await Promise.all(children.map(sigkill));
  for (const undo of cleanUps) await undo().catch((err: unknown) => console.error(`clean-up: ${err instanceof Error ? err.message : err}`));
  await fake?.stop().catch(() => undefined);
}

/** kB from a /proc/<pid>/status line (VmRSS, VmHWM). */
function procStatusKb(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; with `children`, its waited-for children's too. */
function cpuSeconds(pid: number, o: { children?: boolean } = {}): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (then cutime and cstime), in clock ticks (100 per second on Linux).
    const ticks = Number(fields[11]) + Number(fields[12]) + (o.children ? Number(fields[13]) + Number(fields[14]) : 0);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- histories

type History = temporal.api.history.v1.IHistory;

function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/** Latencies inside histories: workflow tasks waiting and running, activities waiting and running, children starting. */
class Latencies {
  readonly series = new Map<string, number[]>();
  readonly workload = new Workload();

  add(name: string, ms: number): void {
    const list = this.series.get(name) ?? [];
    list.push(ms);
    this.series.set(name, list);
  }

  addHistory(history: History, type: string): void {
    const events = history.events ?? [];
    this.workload.add(type, events);
    const byId = new Map<number, temporal.api.history.v1.IHistoryEvent>();
    for (const e of events) byId.set(Number(e.eventId), e);
    const at = (id: unknown) => byId.get(Number(id));
    for (const e of events) {
      const t = eventMs(e);
      if (e.workflowTaskStartedEventAttributes) {
        const scheduled = at(e.workflowTaskStartedEventAttributes.scheduledEventId);
        if (scheduled) this.add('workflow task: scheduled → started', t - eventMs(scheduled));
      } else if (e.workflowTaskCompletedEventAttributes) {
        const started = at(e.workflowTaskCompletedEventAttributes.startedEventId);
        if (started) this.add('workflow task: started → completed', t - eventMs(started));
      } else if (e.activityTaskStartedEventAttributes) {
        const scheduled = at(e.activityTaskStartedEventAttributes.scheduledEventId);
        const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        if (scheduled) this.add(`activity ${name}: scheduled → started`, t - eventMs(scheduled));
      } else if (e.activityTaskCompletedEventAttributes) {
        const started = at(e.activityTaskCompletedEventAttributes.startedEventId);
        const scheduled = at(e.activityTaskCompletedEventAttributes.scheduledEventId);
        const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        if (started) this.add(`activity ${name}: started → completed`, t - eventMs(started));
      } else if (e.childWorkflowExecutionStartedEventAttributes) {
        const initiated = at(e.childWorkflowExecutionStartedEventAttributes.initiatedEventId);
        const type = initiated?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? '?';
        if (initiated) this.add(`child ${type}: initiated → started`, t - eventMs(initiated));
      } else if (e.childWorkflowExecutionCompletedEventAttributes) {
        const started = at(e.childWorkflowExecutionCompletedEventAttributes.startedEventId);
        const initiated = at(e.childWorkflowExecutionCompletedEventAttributes.initiatedEventId);
        const type = initiated?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? '?';
        if (started) this.add(`child ${type}: started → completed (as the parent sees it)`, t - eventMs(started));
      }
    }
  }

  lines(): string[] {
    return [...this.series]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, list]) => {
        const s = [...list].sort((a, b) => a - b);
        const pct = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
        const mean = s.reduce((a, b) => a + b, 0) / s.length;
        return `${name}: n ${s.length}, mean ${ms(mean)}, p50 ${ms(pct(0.5))}, p95 ${ms(pct(0.95))}, max ${ms(s[s.length - 1])}`;
      });
  }
}


/**
 * What each workflow type costs the server: executions, events and workflow tasks. Workflow tasks
 * and the persistence writes that go with each event are what the server's CPU goes into.
 */
class Workload {
  readonly byType = new Map<string, { executions: number; events: number; workflowTasks: number; activities: number; localActivities: number }>();

  add(type: string, events: temporal.api.history.v1.IHistoryEvent[]): void {
    const t = this.byType.get(type) ?? { executions: 0, events: 0, workflowTasks: 0, activities: 0, localActivities: 0 };
    t.executions++;
    t.events += events.length;
    for (const e of events) {
      if (e.workflowTaskCompletedEventAttributes) t.workflowTasks++;
      else if (e.activityTaskScheduledEventAttributes) t.activities++;
      else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') t.localActivities++;
    }
    this.byType.set(type, t);
  }

  total(field: 'executions' | 'events' | 'workflowTasks' | 'activities' | 'localActivities'): number {
    return [...this.byType.values()].reduce((a, t) => a + t[field], 0);
  }

  lines(items: number): string[] {
    const per = (n: number) => (n / Math.max(1, items)).toFixed(2);
    return [...this.byType]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, t]) => `${type}: ${t.executions} executions; per item ${per(t.events)} events, ${per(t.workflowTasks)} workflow tasks, ${per(t.activities)} activities, ${per(t.localActivities)} local activities`);
  }
}

interface SizeStats { n: number; mean: number; max: number; events: number }

function sizeStats(sizes: Array<{ bytes: number; events: number }>): SizeStats {
  const n = sizes.length;
  return {
    n,
    mean: n ? sizes.reduce((a, s) => a + s.bytes, 0) / n : 0,
    max: n ? Math.max(...sizes.map((s) => s.bytes)) : 0,
    events: n ? sizes.reduce((a, s) => a + s.events, 0) / n : 0,
  };
}

// ---------------------------------------------------------------- the server

interface SweepServer {
  port: number;
  pids(): number[];
  /** CPU seconds its processes have used (PostgreSQL's exited backends included). */
  cpuSeconds(): number;
  metricsUrl(): string | undefined;
}

async function startDevServer(): Promise<SweepServer> {
  const port = await freePort();
  const server = spawnDevServer({ port, uiPort: 0, dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
  children.push(server);
  await waitForPort(port, 60_000, server);
  return {
    port,
    pids: () => [server.pid!],
    cpuSeconds: () => cpuSeconds(server.pid!) ?? 0,
    metricsUrl: () => /Temporal Metrics:\s+(\S+)/.exec(readFileSync(path.join(dir, 'server.log'), 'utf8'))?.[1],
  };
}

/** `lab cluster up` in a LAB_HOME of its own (the worker keeps its own, as on another host); taken down with its data at the end. */
async function startCluster(): Promise<SweepServer> {
  const clusterHome = path.join(dir, 'cluster-home');
  const cluster = clusterServer(clusterHome, await freeClusterPorts());
  cleanUps.push(() => cluster.stop());
  console.log('starting the cluster (lab cluster up: PostgreSQL, the Temporal server with 4 history shards)…');
  const port = await cluster.start();
  const state = JSON.parse(readFileSync(clusterPaths({ LAB_HOME: clusterHome }).stateFile, 'utf8')) as ClusterState;
  const postmaster = () => Number(readFileSync(path.join(state.postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    port,
    pids: () => [state.server.pid, postmaster()],
    cpuSeconds: () => (cpuSeconds(state.server.pid) ?? 0) + treeCpuSeconds(postmaster()),
    metricsUrl: () => `http://127.0.0.1:${state.ports.metrics}/metrics`,
  };
}

/** CPU seconds of a process, its live children, and its children that exited and were waited for. */
function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid, { children: true }) ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) total += cpuSeconds(Number(entry)) ?? 0;
    } catch {
      // gone between the listing and the read
    }
  }
  return total;
}

// ---------------------------------------------------------------- the server's metrics

/** Sum of every series of a Prometheus metric whose labels contain all of `labels` (`key="value"`). */
function metric(text: string, name: string, ...labels: string[]): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels.some((l) => !line.includes(l))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

/** What the server says about itself: persistence writes, the shard's IO slot, workflow locks, retried tasks. */
function serverFigures(text: string, wallMs: number): string[] {
  const wall = wallMs / 1000;
  const op = (o: string) => `operation="${o}"`;
  const writes = metric(text, 'persistence_latency_count', op('UpdateWorkflowExecution')) + metric(text, 'persistence_latency_count', op('CreateWorkflowExecution'));
  const writeSeconds = metric(text, 'persistence_latency_sum', op('UpdateWorkflowExecution')) + metric(text, 'persistence_latency_sum', op('CreateWorkflowExecution'));
  const ioWaits = metric(text, 'semaphore_latency_count', op('ShardInfo'));
  const ioWaitSeconds = metric(text, 'semaphore_latency_sum', op('ShardInfo'));
  const locks = metric(text, 'cache_latency_count', 'cache_type="mutablestate"', op('HistoryCacheGetOrCreate'));
  const lockSeconds = metric(text, 'cache_latency_sum', 'cache_type="mutablestate"', op('HistoryCacheGetOrCreate'));
  const busy = metric(text, 'task_errors_throttled', 'resource_exhausted_cause="BusyWorkflow"');
  const task = (t: string) => {
    const n = metric(text, 'task_attempt_count', op(t));
    const attempts = metric(text, 'task_attempt_sum', op(t));
    const queued = metric(text, 'task_latency_queue_sum', op(t)) / Math.max(1, metric(text, 'task_latency_queue_count', op(t)));
    const busyHere = metric(text, 'task_errors_throttled', op(t), 'resource_exhausted_cause="BusyWorkflow"');
    return `${t} ${n} tasks, ${(attempts / Math.max(1, n)).toFixed(2)} attempts each, ${busyHere} BusyWorkflow, ${ms(queued * 1000)} from creation to done`;
  };
  const pct = (x: number) => `${((x / wall) * 100).toFixed(0)}% of the wall time`;
  // Each start, search-attribute or memo upsert and close of a workflow is a visibility task: a write to the visibility store.
  const visibility = ['Start', 'Upsert', 'Close'].map((kind) => [kind.toLowerCase(), metric(text, 'task_attempt_count', op(`VisibilityTask${kind}Execution`))] as const);
  const visibilityWrites = visibility.reduce((sum, [, n]) => sum + n, 0);
  return [
    `persistence writes (Update/CreateWorkflowExecution): ${writes}, mean ${ms((writeSeconds / Math.max(1, writes)) * 1000)}, ${writeSeconds.toFixed(1)} s in all (${pct(writeSeconds)}; ${onCluster ? 'spread over the cluster\'s 4 history shards' : 'the dev server has one history shard, and its writes take turns on its IO slot'})`,
    `visibility writes: ${visibilityWrites} (${visibility.map(([kind, n]) => `${kind} ${n}`).join(', ')})`,
    `waiting for the shard's IO slot: ${ioWaits} waits, mean ${ms((ioWaitSeconds / Math.max(1, ioWaits)) * 1000)}, ${ioWaitSeconds.toFixed(0)} s in all`,
    `waiting for a workflow's lock: ${locks} acquisitions, mean ${ms((lockSeconds / Math.max(1, locks)) * 1000)}; ${busy} history tasks gave up after 500 ms (BusyWorkflow) and were retried later`,
    task('TransferActiveTaskStartChildExecution'),
    task('TransferActiveTaskActivity'),
    task('TransferActiveTaskWorkflowTask'),
    task('TimerActiveTaskWorkflowTaskTimeout'),
  ];
}

// ---------------------------------------------------------------- formatting

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function mb(kB: number | undefined): string {
  return kB === undefined ? 'n/a' : `${(kB / 1024).toFixed(0)} MB`;
}

function positiveInt(name: string, raw: string): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive whole number, got "${raw}"`);
  return v;
}

function commandLine(): string {
  const args = process.argv.slice(2).join(' ');
  if (process.env.npm_lifecycle_event === 'bench:sweep') return `npm run bench:sweep${args ? ` -- ${args}` : ''}`;
  return `npx tsx tests/bench/benchmark.ts${args ? ` ${args}` : ''}`;
}

const SECTION = onCluster ? '## Benchmark sweep on the PostgreSQL cluster (tests/bench/benchmark.ts --server cluster)' : '## Benchmark sweep (tests/bench/benchmark.ts)';

function writeResults(lines: string[]): string {
  return writeBenchSection(SECTION, lines);
}

// ---------------------------------------------------------------- the sweep

async function main(): Promise<void> {
  const tasks = prepareTasks();
  console.log(`tasks: ${tasks.source}`);
  fake = await startFake();
  const server = onCluster ? await startCluster() : await startDevServer();
  const port = server.port;
  connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  const client = new Client({ connection });
  const worker = await startWorker(port);
  console.log(`${serverName} (pids ${server.pids().join(', ')}) on 127.0.0.1:${port}, worker pid ${worker.pid}, fake LLM at ${fake.openaiBaseURL} (latency ${latencyMs} ms); files in ${dir}`);

  const model = (name: string) => `openai-compatible:${name}@${fake!.openaiBaseURL}`;
  const input: BenchmarkInput = {
    tasks: tasks.spec,
    mode: 'stepwise',
    agents: [model('scripted-agent')],
    judges: [model('judge-a'), model('judge-b')],
    stages: ['idea', 'literature', 'proposal'],
    reviews: ['idea', 'proposal'],
    concurrency,
  };

  // Memory and CPU of the worker (and the server) while the sweep runs.
  let maxRss = 0;
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, procStatusKb(worker.pid!, 'VmRSS') ?? 0);
  }, 1000);
  const cpuBefore = { worker: cpuSeconds(worker.pid!) ?? 0, server: server.cpuSeconds(), self: process.cpuUsage() };

  const loadBefore = os.loadavg();
  const benchId = `sweep-${Date.now()}`;
  const started = performance.now();
  const handle = await startBench(client, benchId, input);
  const progressTimer = setInterval(() => {
    client
      .withDeadline(Date.now() + 3000, () => handle.query(benchProgressQuery))
      .then((p: BenchProgress) =>
        console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s: ${p.status}, ${p.done} done, ${p.failed} failed, ${p.running} running of ${p.total} (execution ${p.executions}); LLM calls so far ${calls.agent + calls.judge}`),
      )
      .catch(() => undefined);
  }, 10_000);
  let result: BenchResult;
  try {
    result = await handle.result();
  } finally {
    clearInterval(progressTimer);
  }
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  maxRss = Math.max(maxRss, procStatusKb(worker.pid!, 'VmRSS') ?? 0);
  const hwm = procStatusKb(worker.pid!, 'VmHWM');
  const selfCpu = process.cpuUsage(cpuBefore.self);
  const cpu = {
    worker: (cpuSeconds(worker.pid!) ?? 0) - cpuBefore.worker,
    server: server.cpuSeconds() - cpuBefore.server,
    self: (selfCpu.user + selfCpu.system) / 1e6,
  };

  // The server's own metrics (Prometheus text), kept beside the logs for a closer look.
  const metricsUrl = server.metricsUrl();
  const metricsText = metricsUrl ? await fetch(metricsUrl).then((r) => r.text()).catch(() => undefined) : undefined;
  if (metricsText) writeFileSync(path.join(dir, 'server-metrics.txt'), metricsText);
  const loadAfter = os.loadavg();

  // Histories: every research run and review of the sweep, and each execution of the benchmark itself.
  const latencies = new Latencies();
  const sizes = { researchRun: [] as Array<{ bytes: number; events: number }>, review: [] as Array<{ bytes: number; events: number }> };
  const runDurations: number[] = [];
  const sweepWorkflows: Array<{ workflowId: string; runId: string; type: string }> = [];
  for await (const w of client.workflow.list({ query: `LabBench = '${benchId}' AND WorkflowType != 'benchmark'` })) {
    sweepWorkflows.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
    if (w.type === 'researchRun' && w.closeTime) runDurations.push(w.closeTime.getTime() - w.startTime.getTime());
  }
  await mapLimited(sweepWorkflows, 16, async (w) => {
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const entry = { bytes: historySizeBytes(history), events: history.events?.length ?? 0 };
    if (w.type === 'researchRun') sizes.researchRun.push(entry);
    else if (w.type === 'review') sizes.review.push(entry);
    latencies.addHistory(history, w.type);
  });
  const benchExecutions: Array<{ bytes: number; events: number }> = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${benchId}'` })) {
    const history = await client.workflow.getHandle(benchId, w.runId).fetchHistory();
    benchExecutions.push({ bytes: historySizeBytes(history), events: history.events?.length ?? 0 });
    latencies.addHistory(history, 'benchmark');
  }

  // The ideal. Per item the agent's calls are sequential (idea, literature queries, literature
  // write, proposal) and its reviews' judge calls all run at once (one round): the item's critical path.
  const items = result.total;
  const llmCalls = calls.agent + calls.judge;
  const callsPerItem = llmCalls / Math.max(1, items);
  const sequentialPerItem = calls.agent / Math.max(1, items) + 1;
  const idealCritical = sequentialPerItem * latencyMs * Math.ceil(items / concurrency);
  const idealPlain = (llmCalls * latencyMs) / concurrency;
  const ideal = Math.max(idealCritical, idealPlain);
  const ratio = (x: number) => (x > 0 ? `${(wallMs / x).toFixed(2)}×` : 'n/a (no latency)');
  const perExecution = benchmarkInputSchema.parse(input).itemsPerExecution;
  const rs = sizeStats(sizes.researchRun);
  const rv = sizeStats(sizes.review);
  const be = sizeStats(benchExecutions);
  runDurations.sort((a, b) => a - b);
  const runMean = runDurations.reduce((a, b) => a + b, 0) / Math.max(1, runDurations.length);
  const fakeSpan = calls.last - calls.first;
  const workload = latencies.workload;

  const figures = [
    `- tasks: ${tasks.source}; ${items} items (1 agent), stepwise idea → literature → proposal, reviews idea + proposal by 2 judges, concurrency ${concurrency}, LLM latency ${latencyMs} ms`,
    `- items: ${result.done} done, ${result.failed} failed, ${result.skipped} skipped of ${result.total}${result.failures.length ? ` (first failure: ${result.failures[0].part}: ${result.failures[0].reason.slice(0, 160)})` : ''}`,
    `- wall time: ${ms(wallMs)} (benchmark start → result)`,
    `- LLM calls at the fake: ${llmCalls} (agent ${calls.agent}, judge ${calls.judge}; ${callsPerItem.toFixed(2)} per item${calls.unanswered ? `; ${calls.unanswered} unanswered` : ''}); model-list requests (preflight) ${fake.modelListRequests}`,
    `  - by kind: ${[...calls.byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `  - calls in flight at the fake: max ${calls.maxInFlight}, mean ${(calls.busyMs / wallMs).toFixed(1)} over the wall time (${(calls.busyMs / Math.max(1, fakeSpan)).toFixed(1)} between first and last call)`,
    `- ideal (critical path) = (sequential LLM calls per item × latency) × ceil(items / concurrency) = (${sequentialPerItem.toFixed(2)} × ${latencyMs} ms) × ${Math.ceil(items / concurrency)} = ${ms(idealCritical)}; sequential calls per item = agent calls per item + 1 judge round (all ${(calls.judge / Math.max(1, items)).toFixed(0)} judge calls of an item run at once)`,
    `- ideal (plain) = LLM calls × latency ÷ concurrency = ${llmCalls} × ${latencyMs} ms ÷ ${concurrency} = ${ms(idealPlain)}`,
    `- wall / ideal: ${ratio(idealCritical)} the critical-path ideal, ${ratio(idealPlain)} the plain ideal (target on ${onCluster ? 'the cluster: ≤ 2×' : 'the dev server: ≤ 2.5×'} of the larger, ${ms(ideal)}, at 200 ms; ≤ 1.3× at 2 s; wall-clock ratios vary with whatever else runs on the machine, see the load average below)`,
    `- research run duration (start → close): mean ${ms(runMean)}, p50 ${ms(runDurations[Math.floor(runDurations.length / 2)] ?? 0)}, max ${ms(runDurations.at(-1) ?? 0)}; its LLM part ${ms((calls.agent / Math.max(1, items)) * latencyMs)}`,
    `- history per research run: mean ${kb(rs.mean)}, max ${kb(rs.max)} (${rs.n} runs, ${rs.events.toFixed(0)} events on average)`,
    `- history per review workflow: mean ${kb(rv.mean)}, max ${kb(rv.max)} (${rv.n} reviews, ${rv.events.toFixed(0)} events on average)`,
    `- benchmark workflow history per execution (continues as new every ${perExecution} items): ${benchExecutions.map((e) => `${kb(e.bytes)} (${e.events} events)`).join(', ')}; mean ${kb(be.mean)}, max ${kb(be.max)}`,
    `- worker memory: peak ${mb(hwm)} (VmHWM at the end), max sampled VmRSS ${mb(maxRss)} (every 1 s)`,
    `- CPU per LLM call (orchestration: worker + ${onCluster ? 'cluster' : 'dev server'}, the robust figure on a shared machine): ${((1000 * (cpu.worker + cpu.server)) / Math.max(1, llmCalls)).toFixed(1)} ms (worker ${((1000 * cpu.worker) / Math.max(1, llmCalls)).toFixed(1)} ms + ${onCluster ? 'cluster' : 'dev server'} ${((1000 * cpu.server) / Math.max(1, llmCalls)).toFixed(1)} ms; target ≤ 20 ms)`,
    `- orchestration per item (from the histories): ${(workload.total('workflowTasks') / Math.max(1, items)).toFixed(2)} workflow tasks, ${(workload.total('events') / Math.max(1, items)).toFixed(1)} history events, ${(workload.total('executions') / Math.max(1, items)).toFixed(2)} workflow executions, ${(workload.total('activities') / Math.max(1, items)).toFixed(2)} activities, ${(workload.total('localActivities') / Math.max(1, items)).toFixed(2)} local activities`,
    ...workload.lines(items).map((l) => `  - ${l}`),
    `- CPU during the sweep: worker ${cpu.worker.toFixed(1)} s, ${onCluster ? 'cluster (Temporal server + PostgreSQL)' : 'dev server'} ${cpu.server.toFixed(1)} s, this process (fake LLM, client) ${cpu.self.toFixed(1)} s; ${(((cpu.worker + cpu.server + cpu.self) / (wallMs / 1000)) * 100).toFixed(0)}% of one core on average, the machine has ${os.cpus().length}; load average ${loadBefore[0].toFixed(1)} before, ${loadAfter[0].toFixed(1)} after (other processes share the machine)`,
  ];
  const server_ = metricsText ? serverFigures(metricsText, wallMs).map((l) => `  - ${l}`) : [`  - (${serverName}'s metrics could not be read)`];
  const timing = latencies.lines().map((l) => `  - ${l}`);

  console.log('');
  for (const line of figures) console.log(line);
  console.log('- where the time goes (from the histories):');
  for (const line of timing) console.log(line);
  console.log(`- ${serverName} (its Prometheus metrics):`);
  for (const line of server_) console.log(line);

  const machine = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
  const file = writeResults([
    `Date: ${new Date().toISOString()}  `,
    `Machine: ${machine}  `,
    `Command: \`${command}\`  `,
    `Worker env: ${Object.entries(WORKER_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} LAB_WORKFLOW_DEADLOCK_DETECTION=${deadlockDetection()}`,
    '',
    ...figures,
    '- where the time goes (from the histories of every run, review and benchmark execution):',
    ...timing,
    `- ${serverName} (its Prometheus metrics, read at the end):`,
    ...server_,
  ]);
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  if (profileDir) console.log(`the worker's CPU profile goes to ${profileDir} when it exits`);
}

let exitCode = 0;
const onSignal = (signal: NodeJS.Signals) => {
  console.error(`\n${signal}: stopping`);
  void cleanUp().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  await main();
} catch (err) {
  exitCode = 1;
  console.error(`benchmark failed: ${err instanceof Error ? err.stack ?? err.message : err}`);
  console.error(`logs: ${dir}/worker.log, ${dir}/server.log`);
} finally {
  await cleanUp();
}
process.exit(exitCode);
