/**
 * OpenTelemetry traces (issue 18 item 6), on real processes: a dev server, a research worker and an
 * LLM worker as separate `lab worker` processes, the `lab` CLI, all sending OTLP/HTTP to a fake
 * collector on 127.0.0.1. One run is one trace across the three processes; a collector that is
 * down costs spans, never the run; wrong settings stop a process with one line. That runs recorded
 * without tracing replay with it is checked in tests/replay.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRACE_HEADER as LIBRARY_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { tracingSettings } from '../workers/tracing.js';
import { TRACE_HEADER } from '../workflows/tracePropagation.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { FakeOtlpCollector, type CollectedSpan } from './fakes/otlpCollector.js';
import { recordedOutput, scriptedReply } from './fakes/recordedOutputs.js';
import { runLab, sigkill, startWorkerProcess } from './helpers/labProcesses.js';
import { devServer, type StackServer } from './helpers/labStack.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

describe('tracing settings', () => {
  it('workflows pass the trace on in the header the OpenTelemetry interceptors read', () => {
    expect(TRACE_HEADER).toBe(LIBRARY_TRACE_HEADER);
  });

  it('is off unless an OTLP endpoint is named, and explicit switches turn it off', () => {
    expect(tracingSettings({}, 'svc')).toBeUndefined();
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' };
    expect(tracingSettings(on, 'svc')).toEqual({ url: 'http://collector:4318/v1/traces', serviceName: 'svc' });
    expect(tracingSettings({ ...on, OTEL_SDK_DISABLED: 'true' }, 'svc')).toBeUndefined();
    expect(tracingSettings({ ...on, OTEL_TRACES_EXPORTER: 'none' }, 'svc')).toBeUndefined();
    // The traces endpoint is used as is and wins over the base one; the service name is the operator's.
    expect(tracingSettings({ ...on, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/ingest', OTEL_SERVICE_NAME: 'lab-gpu-pool' }, 'svc')).toEqual({
      url: 'https://otel.example/ingest',
      serviceName: 'lab-gpu-pool',
    });
    // A base path and a query stay where they belong; protobuf, the spec's default, is taken (the endpoint takes JSON too).
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/otlp/?tenant=a', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, 'svc')?.url).toBe('http://c:4318/otlp/v1/traces?tenant=a');
  });

  it('refuses what it cannot do, naming the setting', () => {
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (e.g. http://127.0.0.1:4318), got "collector:4318"'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (e.g. http://127.0.0.1:4318), got "127.0.0.1:4318"'],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c/traces' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL (e.g. http://127.0.0.1:4318), got "ftp://c/traces"'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL: Durable Lab sends traces over OTLP/HTTP (an http endpoint, usually port 4318), not "grpc"'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER must be otlp or none here, got "jaeger"'],
      // A headers value holds API keys: the error names the entry, never the value.
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a,Authorization: Bearer s3cret' }, 'OTEL_EXPORTER_OTLP_HEADERS must be comma-separated key=value pairs (entry 2 is not)'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_HEADERS: '=s3cret' }, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS must be comma-separated key=value pairs (entry 1 is not)'],
    ];
    for (const [env, message] of cases) expect(() => tracingSettings(env, 'svc')).toThrow(message);
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a=b%3D,x-tenant=lab' }, 'svc')?.url).toBe('http://c:4318/v1/traces');
  });
});

describe('a run traced across the CLI and two worker processes', () => {
  const dir = tempDir('tracing');
  const labHome = path.join(dir, 'lab');
  let server: StackServer;
  let port: number;
  let collector: FakeOtlpCollector;
  let fake: FakeLlmServer;
  const workers: ChildProcess[] = [];
  const otel = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
  const model = () => `openai-compatible:scripted@${fake.openaiBaseURL}`;
  const labEnv = () => ({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, LAB_HOME: labHome, LAB_ARTIFACT_DIR: path.join(labHome, 'artifacts'), TEMPORAL_PROFILE: '' });
  const lab = (args: string[], env: NodeJS.ProcessEnv = {}) => runLab(args, { ...labEnv(), ...env });

  beforeAll(async () => {
    collector = await new FakeOtlpCollector().start();
    fake = await new FakeLlmServer((req) => ({ text: scriptedReply(req.prompt) ?? recordedOutput('idea'), delayMs: 10 })).start();
    fake.models = ['scripted'];
    server = devServer(dir);
    port = await server.start();
    // The research pool (workflows) and the LLM pool in separate processes, as on separate hosts.
    workers.push(
      await startWorkerProcess({ port, labHome, logFile: path.join(dir, 'research.log'), env: { ...otel(), LAB_WORKER_QUEUES: 'research,sandbox,literature' }, readyWhen: (o) => /worker traces/.test(o) }),
      await startWorkerProcess({ port, labHome, logFile: path.join(dir, 'llm.log'), env: { ...otel(), LAB_WORKER_QUEUES: 'llm.openai-compatible', OTEL_SERVICE_NAME: 'lab-llm-pool' }, readyWhen: (o) => /worker traces/.test(o) }),
    );
  }, 240_000);

  afterAll(async () => {
    for (const w of workers) await sigkill(w);
    await server?.stop();
    await fake?.stop();
    await collector?.stop();
  });

  /** The run's trace once the spans named have all arrived (workers send theirs every few seconds). */
  async function traceOf(runId: string, names: string[]): Promise<CollectedSpan[]> {
    return await waitFor(
      async () => {
        const start = collector.spans.find((s) => s.name === 'StartWorkflow:researchRun' && s.attributes.temporalWorkflowId === runId);
        if (!start) return undefined;
        const spans = collector.trace(start.traceId);
        return names.every((n) => spans.some((s) => s.name === n)) ? spans : undefined;
      },
      `the spans of ${runId} (${names.join(', ')}) at the collector`,
      60_000,
      250,
    ).catch((err: Error) => {
      const seen = collector.spans.map((s) => `${s.service} ${s.name} trace ${s.traceId.slice(0, 8)} ${String(s.attributes.temporalWorkflowId ?? '')}`);
      throw new Error(`${err.message}; the collector has ${seen.length} span(s):\n${seen.join('\n')}`);
    });
  }

  it('one trace: the CLI starts the workflow, the LLM worker runs its stages, on the research worker\'s say', async () => {
    const id = `traced-${process.pid}`;
    const r = await lab(['run', 'calibration-under-shift', '--model', model(), '--gate', 'idea', '--no-preflight', '--id', id], otel());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run ${id} waits at the idea gate`);
    const spans = await traceOf(id, ['lab run', 'StartWorkflow:researchRun', 'RunActivity:storeTaskText', 'RunActivity:runStage']);
    const one = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      expect(found, name).toHaveLength(1);
      return found[0];
    };
    const command = one('lab run');
    const start = one('StartWorkflow:researchRun');
    const stage = one('RunActivity:runStage');
    const stored = one('RunActivity:storeTaskText');
    // Each process under its own service name; the workflow passed the trace on to each activity it scheduled.
    expect([command.service, start.service, stored.service, stage.service]).toEqual(['durable-lab-cli', 'durable-lab-cli', 'durable-lab-worker', 'lab-llm-pool']);
    expect(command.parentSpanId).toBe('');
    expect(command.attributes['lab.exit_code']).toBe(0);
    expect(start.parentSpanId).toBe(command.spanId);
    expect([stored.parentSpanId, stage.parentSpanId]).toEqual([start.spanId, start.spanId]);
    expect(stage.attributes).toMatchObject({ temporalWorkflowId: id });
    expect(stage.statusCode).toBe(1);
    // Its polling while it followed the run (a progress query and a describe a second) is not sent.
    expect(collector.spans.filter((s) => s.name.startsWith('QueryWorkflow') || s.name === 'DescribeWorkflow')).toEqual([]);

    // The decision is the reject command's own trace.
    expect((await lab(['reject', id, '--stage', 'idea'], otel())).code).toBe(0);
    const decided = await waitFor(
      async () => {
        const sent = collector.spans.find((s) => s.name === 'StartWorkflowUpdate:review' && s.attributes.temporalWorkflowId === id);
        return sent && collector.spans.find((s) => s.name === 'lab reject' && s.spanId === sent.parentSpanId);
      },
      'the reject decision sent by the CLI',
      60_000,
      250,
    );
    expect(decided.service).toBe('durable-lab-cli');
  }, 120_000);

  it('a collector that fails costs its spans, not the run; once it is back, spans arrive again', async () => {
    collector.failWith = 503;
    const failedBefore = collector.answered.filter((s) => s === 503).length;
    const id = `traced-down-${process.pid}`;
    const r = await lab(['run', 'calibration-under-shift', '--model', model(), '--gate', 'idea', '--no-preflight', '--id', id], otel());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run ${id} waits at the idea gate`);
    expect(collector.answered.filter((s) => s === 503).length).toBeGreaterThan(failedBefore);
    // The command says its own spans did not get through, once, as it exits.
    expect(r.stderr.split('\n').filter((l) => l.startsWith('lab: traces not sent'))).toEqual([expect.stringMatching(new RegExp(`^lab: traces not sent to ${collector.url}/v1/traces \\(.+\\); the last spans are lost$`))]);
    // The worker says once that its spans are not getting through (its exporter retries 503s first).
    const warning = await waitFor(
      async () => readFileSync(path.join(dir, 'research.log'), 'utf8').split('\n').find((l) => l.includes('traces not sent')),
      'the research worker to warn that its traces are not sent',
      60_000,
      250,
    );
    expect(warning).toMatch(new RegExp(`^worker: traces not sent to ${collector.url}/v1/traces \\(.+\\)`));
    collector.failWith = undefined;
    expect((await lab(['reject', id, '--stage', 'idea'])).code).toBe(0);

    const next = `traced-up-${process.pid}`;
    const again = await lab(['run', 'calibration-under-shift', '--model', model(), '--gate', 'idea', '--no-preflight', '--id', next], otel());
    expect(again.code, again.stderr).toBe(0);
    const spans = await traceOf(next, ['lab run', 'RunActivity:runStage']);
    expect(spans.find((s) => s.name === 'RunActivity:runStage')?.service).toBe('lab-llm-pool');
    expect((await lab(['reject', next, '--stage', 'idea'])).code).toBe(0);
  }, 120_000);

  it('Ctrl-C while following a run still sends the command\'s trace, its exit code included', async () => {
    const id = `traced-interrupted-${process.pid}`;
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), 'run', 'calibration-under-shift', '--model', model(), '--gate', 'idea', '--follow', '--no-preflight', '--id', id], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...labEnv(), ...otel() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Interrupted while it follows the run waiting at its gate.
    await waitFor(async () => (await lab(['status', id])).stdout.includes('idea') && output.includes(`started run ${id}`), 'the run to start and wait at its gate', 60_000, 500);
    child.kill('SIGINT');
    expect(await exited, output).toBe(130);
    expect(output).toContain(`stopped following; run ${id} goes on in Temporal`);
    const spans = await traceOf(id, ['lab run', 'StartWorkflow:researchRun']);
    const command = spans.find((s) => s.name === 'lab run')!;
    expect(command).toMatchObject({ parentSpanId: '', statusCode: 2, attributes: { 'lab.exit_code': 130 } });
    expect(spans.find((s) => s.name === 'StartWorkflow:researchRun')?.parentSpanId).toBe(command.spanId);
    expect((await lab(['reject', id, '--stage', 'idea'])).code).toBe(0);
  }, 120_000);

  it('a wrong setting stops the CLI and the worker with one line naming it', async () => {
    const bad = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    const line = 'OTEL_EXPORTER_OTLP_PROTOCOL: Durable Lab sends traces over OTLP/HTTP (an http endpoint, usually port 4318), not "grpc"';
    const cli = await lab(['list'], bad);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')[0]).toBe(`lab list: ${line}`);
    // Even a command that needs no server refuses it: the setting is the process's.
    const offline = await lab(['tasks'], bad);
    expect(offline.code).toBe(2);
    expect(offline.stderr.trim().split('\n')[0]).toBe(`lab tasks: ${line}`);
    const worker = await lab(['worker', '--queues', 'sandbox'], bad);
    expect(worker.code).toBe(2);
    expect(worker.stderr.trim().split('\n')[0]).toBe(`lab worker: ${line}`);
  }, 60_000);
});
