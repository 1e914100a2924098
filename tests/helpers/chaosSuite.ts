/**
 * The chaos test (issue 18), shared by tests/chaos.test.ts (a Temporal dev server on a SQLite file)
 * and tests/cluster/chaos.cluster.ts (the PostgreSQL cluster): 20 research runs on real processes
 * (the server, two `lab worker` processes) with a scripted LLM behind real HTTP. During the batch a
 * worker is SIGKILLed three times and the server once (on the cluster PostgreSQL is also restarted
 * once); each comes back on the same port, database and folder. All 20 runs must complete, with the
 * same artifacts as a clean batch of the same runs, and the LLM must have been asked again at most
 * once for each call that was in flight at a kill.
 *
 * The clean reference is a first batch on its own stack (its own dev server database, own LAB_HOME
 * and store, no kills) with the same run ids and the same model specs: a stage's document names its
 * run and its model spec, so only a run of the same id can be compared byte for byte.
 *
 * How a kill lands: when the batch reaches a kill's point, the fake LLM holds back the replies of
 * stage calls (idea, literature, proposal, paper; experiment steps are never held) and waits until
 * (a) no reply has gone out for SETTLE_MS, so every answered call has reached the worker's call
 * cache, and (b) no activity is running whose heartbeat timeout is longer than the stage calls' 5 s
 * (helpers/slowRecovery.ts). Then the kill lands with the held calls in flight, and the fake counts
 * them; the replies go out after the kill (to a dead socket for the killed worker's calls).
 * (a) makes "in flight" an exact count rather than a race with a reply on the wire. (b) is there
 * because the experiment's and the literature search's activities have fixed heartbeat timeouts of
 * 1-2 minutes (workflows/experimentRun.ts, workflows/stages.ts) instead of the run's stageTimeouts:
 * a kill during one costs its run minutes before the step is retried (a server kill too, when the
 * completion is lost). That is recovery, but too slow for this test, so the kills avoid them.
 *
 * The idea, proposal and paper replies come in two turns (the first cut short at the output limit,
 * answered at once; the continuation slow and held), so a kill cuts off calls whose first turn is
 * answered: a retry must take that turn from the worker's LLM call cache and ask only for the
 * continuation. Repeats must equal exactly the requests cut off with a killed worker, each traced to
 * its request; with the call cache switched off this fails (tried: 20 first turns asked again).
 *
 * The store is S3 (a Versity S3 Gateway the test starts, or the bucket LAB_S3_BUCKET names) and
 * each worker has its own LAB_HOME, as on hosts that share nothing but Temporal and the store; both
 * batches use the bucket under their own prefix. The exact repeat check holds there only because
 * finished calls are cached in the store: with the cache in each worker's LAB_HOME, a retry on the
 * other worker missed it (tried: 15 first turns asked again). LAB_CHAOS_STORE=local runs the same
 * test on one local folder shared by both workers.
 */
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameInRun, type ArtifactStore } from '../../activities/artifacts.js';
import { openArtifactStore } from '../../activities/store/open.js';
import { startS3Server, type S3TestServer } from './s3Server.js';
import type { ResearchRunResult } from '../../common/schemas.js';
import { STAGES } from '../../common/stages.js';
import { prepareRun, startRun } from '../../scripts/lib/runs.js';
import { CallLedger, callKey, firstPrompt, turnOf } from '../fakes/callLedger.js';
import { FakeLlmServer, type FakeRequest } from '../fakes/fakeLlmServer.js';
import { scriptedReply, stageOfPrompt } from '../fakes/recordedOutputs.js';
import { ReplyGate } from '../fakes/replyGate.js';
import { LabStack, type StackServer } from './labStack.js';
import { digestDifferences, runFileDigests } from './runFiles.js';
import { tempDir } from './temporal.js';
import { slowToRecoverActivities } from './slowRecovery.js';
import { waitFor } from './wait.js';

const RUNS = 20;
const TASKS = ['small-lm-data-efficiency', 'calibration-under-shift', 'reproducible-ml-pipelines'];
const runIds = Array.from({ length: RUNS }, (_, i) => `chaos-${String(i + 1).padStart(2, '0')}`);
/** Latency of a stage call in the chaos batch: calls are in flight most of the time. */
const STAGE_LATENCY_MS = 1200;
/** Experiment steps answer quickly (they are never held; see the header). */
const EXPERIMENT_LATENCY_MS = 50;
/** A lost stage call is retried once its worker misses this heartbeat (slack for a loaded machine). */
const STAGE_HEARTBEAT_SECONDS = 5;
/** Quiet time before a kill: long enough for an answered call to reach the call cache on a busy machine. */
const SETTLE_MS = 1000;
/** What a kill hits: a worker (by index), the server (SIGKILL), or the server's PostgreSQL (a restart). */
export type KillTarget = 'server' | 'postgres' | number;
/** Where a kill lands, as a share of the clean batch's LLM calls received so far. */
export interface KillStep {
  share: number;
  target: KillTarget;
}

export interface ChaosSuiteOptions {
  title: string;
  killPlan: KillStep[];
  /** The chaos batch's server (default: a dev server of its own); the clean batch always has a dev server. */
  chaosServer?: (dir: string) => Promise<StackServer>;
}

const dir = tempDir('chaos');
const s3 = process.env.LAB_CHAOS_STORE !== 'local';
let s3Server: S3TestServer | undefined;
const stamp = Date.now().toString(36);

/** The store settings of one batch: its own folder, or its own prefix in the bucket. */
function storeEnv(batch: string): NodeJS.ProcessEnv {
  return s3
    ? { LAB_S3_PREFIX: `${process.env.LAB_S3_PREFIX ?? ''}chaos-${stamp}/${batch}/` }
    : { LAB_ARTIFACT_DIR: path.join(dir, batch, 'artifacts') };
}

let fake: FakeLlmServer;
const gate = new ReplyGate();
let ledger = new CallLedger();
let stageLatencyMs = 0;

interface Batch {
  stack: LabStack;
  store: ArtifactStore;
  results: Map<string, ResearchRunResult>;
  ledger: CallLedger;
  wallMs: number;
}

function newStack(batch: string, server?: StackServer): LabStack {
  return new LabStack({
    dir: path.join(dir, batch),
    workers: 2,
    sharedHome: !s3,
    // Room for every run's call at once on each worker, so calls queue at the fake, not in the worker.
    workerEnv: { ...storeEnv(batch), LAB_LLM_CONCURRENCY: '16' },
    server,
  });
}

/** E.g. "3 worker kills, 1 server kill and 1 PostgreSQL restart". */
function planInWords(plan: KillStep[]): string {
  const count = (t: (k: KillStep) => boolean) => plan.filter(t).length;
  const parts = [
    `${count((k) => typeof k.target === 'number')} worker kills`,
    `${count((k) => k.target === 'server')} server kill`,
    ...(plan.some((k) => k.target === 'postgres') ? [`${count((k) => k.target === 'postgres')} PostgreSQL restart`] : []),
  ];
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

const targetName = (target: KillTarget) => (target === 'server' ? 'server' : target === 'postgres' ? 'PostgreSQL restart' : `worker ${target}`);

/** Starts the 20 runs (tasks in turn, one model name per run so the fake can tell runs apart). */
async function startBatch(stack: LabStack): Promise<void> {
  for (const [i, runId] of runIds.entries()) {
    const { input } = await prepareRun({
      task: TASKS[i % TASKS.length],
      model: `openai-compatible:scripted-${String(i + 1).padStart(2, '0')}@${fake.openaiBaseURL}`,
      workflowId: runId,
      stageTimeouts: { startToCloseSeconds: 180, heartbeatSeconds: STAGE_HEARTBEAT_SECONDS, maxAttempts: 20 },
    });
    await startRun(stack.client, runId, input);
  }
}

/** A run's result, asked again while the server is down or restarting; a failed run fails at once. */
async function resultOf(stack: LabStack, runId: string): Promise<ResearchRunResult> {
  const deadline = Date.now() + 280_000;
  for (;;) {
    try {
      return (await stack.client.workflow.getHandle(runId).result()) as ResearchRunResult;
    } catch (err) {
      if (err instanceof WorkflowFailedError || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function allResults(stack: LabStack): Promise<Map<string, ResearchRunResult>> {
  const results = await Promise.all(runIds.map((id) => resultOf(stack, id)));
  return new Map(runIds.map((id, i) => [id, results[i]]));
}

/**
 * Files that record how long a sandboxed command took, or (a step's prompt) the experiment's time
 * left: these differ from one run of the same steps to the next, so they are masked there (in the
 * JSON records also the digests, which cover the command's output file and with it the duration).
 * Every other file is compared as is.
 */
const TIMED_FILE = /^(experiment\/steps\/\d+(-output\.txt|-prompt\.md|\.json)|experiment\/transcript\.jsonl|results\/log\.txt|results\/results\.md)$/;

function maskTimings(name: string, body: Buffer): Buffer | undefined {
  if (!TIMED_FILE.test(name)) return undefined;
  let text = body
    .toString('utf8')
    .replace(/after \d+(\.\d+)? ?s\b/g, 'after _ s')
    .replace(/"durationMs":\s*\d+/g, '"durationMs":_')
    // A step's prompt tells the agent its time left, read from the clock.
    .replace(/\(about \d+ minutes left\)/g, '(about _ minutes left)')
    // results.md's "Commands run" table: | step | command | result | seconds |
    .replace(/^(\| \d+ \| `.*` \| .* \| )\d+(\.\d+)?( \|)$/gm, '$1_$3');
  if (/\.jsonl?$/.test(name)) text = text.replace(/[0-9a-f]{64}/g, '<sha256>');
  return Buffer.from(text);
}

interface KillRecord {
  target: string;
  /** Seconds into the batch. */
  atS: number;
  /** Seconds spent lining the kill up (holding stage replies until the moment was quiet). */
  lineUpS: number;
  runsDone: number;
  /** The requests in flight at the kill, and how many per stage. */
  inFlight: FakeRequest[];
  inFlightByStage: Record<string, number>;
  /** Of those, the ones whose connection this kill cut (the killed worker's): their replies never arrived. */
  cutOff: FakeRequest[];
}

/** Resolves once `probe` has returned the same value for `steadyMs`. */
async function waitForSteady(probe: () => number, steadyMs: number): Promise<void> {
  let value = probe();
  let since = Date.now();
  while (Date.now() - since < steadyMs) {
    await new Promise((r) => setTimeout(r, 25));
    const now = probe();
    if (now !== value) [value, since] = [now, Date.now()];
  }
}

const countBy = <T>(items: T[], key: (t: T) => string) => items.reduce<Record<string, number>>((m, t) => ({ ...m, [key(t)]: (m[key(t)] ?? 0) + 1 }), {});
const listCounts = (m: Record<string, number>) => Object.entries(m).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

/**
 * Holds stage replies, waits for a quiet moment with calls in flight and nothing running that
 * would take minutes to be retried, then kills.
 */
async function lineUpKill(stack: LabStack, startedAt: number, target: KillTarget, runsDone: () => number): Promise<KillRecord> {
  const lineUpStart = Date.now();
  gate.hold();
  await stack.workersReady(); // never kill a worker that is still starting
  let slow: string[] = [];
  const what = target === 'server' ? 'the server kill' : target === 'postgres' ? 'the PostgreSQL restart' : `the kill of worker ${target}`;
  await waitFor(
    async () => {
      if (Date.now() - fake.lastReplyAt < SETTLE_MS || fake.inFlight.size === 0) return false;
      slow = await slowToRecoverActivities(stack.client, STAGE_HEARTBEAT_SECONDS * 1000);
      return slow.length === 0 && Date.now() - fake.lastReplyAt >= SETTLE_MS;
    },
    `a quiet moment for ${what}`,
    120_000,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; still running: ${slow.join(', ') || 'nothing slow'}; calls in flight: ${fake.inFlight.size}`);
  });
  const open = [...fake.inFlight];
  const record: KillRecord = {
    target: targetName(target),
    atS: (Date.now() - startedAt) / 1000,
    lineUpS: (Date.now() - lineUpStart) / 1000,
    runsDone: runsDone(),
    inFlight: open,
    inFlightByStage: countBy(open, (r) => `${stageOfPrompt(firstPrompt(r)) ?? 'other'}${turnOf(r) ? ' (continued)' : ''}`),
    cutOff: [],
  };
  if (target === 'server') {
    await stack.killServer();
    gate.release();
    // The held replies reach the workers while the server is down; then the server comes back.
    await waitFor(async () => open.every((r) => !fake.inFlight.has(r)) || undefined, 'the held replies to go out', 60_000, 50);
    record.cutOff = open.filter((r) => fake.cutOff.has(r));
    await stack.startServer();
  } else if (target === 'postgres') {
    // The server and the workers live on; the server's writes fail until PostgreSQL is back.
    await stack.server.restartDatabase!();
    gate.release();
  } else {
    await stack.killWorker(target);
    // The killed worker's connections close with it; let the fake see every one of them close
    // before the held replies go out, so none is written into a socket that is already dead.
    await waitForSteady(() => open.filter((r) => fake.inFlight.has(r)).length, 500);
    record.cutOff = open.filter((r) => fake.cutOff.has(r));
    gate.release();
    void stack.startWorker(target).catch(() => undefined); // awaited through workersReady (its error surfaces there)
  }
  return record;
}

export function chaosSuite(o: ChaosSuiteOptions): void {
  let clean: Batch;
  let chaos: Batch & { kills: KillRecord[] };
  const stacks: LabStack[] = [];

  beforeAll(async () => {
    if (s3 && !process.env.LAB_S3_BUCKET) {
      // Workers inherit this process's environment: they all reach the same bucket.
      s3Server = await startS3Server(dir);
      Object.assign(process.env, s3Server.env);
    }
    fake = await new FakeLlmServer(async (req) => {
      const prompt = firstPrompt(req);
      const text = scriptedReply(prompt, req.system);
      if (text === undefined) return { status: 400, body: { error: { message: 'no scripted answer for this prompt' } } };
      ledger.record(req);
      const stage = stageOfPrompt(prompt);
      if (stage === 'experiment') return { text, delayMs: EXPERIMENT_LATENCY_MS };
      // Written stages come in two turns: the first, cut short at its output limit, answered at once;
      // the continuation held and slow. A kill then finds answered first turns in the call cache.
      const cut = Math.floor(text.length / 2);
      const twoTurns = stage === 'idea' || stage === 'proposal' || stage === 'paper';
      if (twoTurns && turnOf(req) === 0) return { text: text.slice(0, cut), truncated: true };
      if (stageLatencyMs) await new Promise((r) => setTimeout(r, stageLatencyMs));
      await gate.pass();
      return { text: twoTurns ? text.slice(cut) : text };
    }).start();
  }, 30_000);

  afterAll(async () => {
    gate.release();
    for (const s of stacks) await s.stop();
    await fake?.stop();
    await s3Server?.stop();
  });

  describe(o.title, () => {
    it('a clean batch gives the reference: every run completes and no call is made twice', async () => {
      ledger = new CallLedger();
      stageLatencyMs = 0;
      const stack = newStack('clean');
      stacks.push(stack);
      await stack.start();
      const store = openArtifactStore({ ...process.env, ...storeEnv('clean') });
      const startedAt = Date.now();
      await startBatch(stack);
      const results = await allResults(stack);
      clean = { stack, store, results, ledger, wallMs: Date.now() - startedAt };
      await stack.stop();

      for (const r of results.values()) expect(r.status).toBe('completed');
      expect(ledger.repeated).toBe(0);
      expect(ledger.byCall.size).toBe(ledger.received);
    }, 300_000);

    it(`the batch survives ${planInWords(o.killPlan)} with the clean batch's artifacts, asking the LLM again only for calls in flight`, async () => {
      expect(clean, 'the clean batch ran').toBeDefined();
      ledger = new CallLedger();
      stageLatencyMs = STAGE_LATENCY_MS;
      const stack = newStack('chaos', o.chaosServer ? await o.chaosServer(path.join(dir, 'chaos')) : undefined);
      stacks.push(stack);
      await stack.start();
      const store = openArtifactStore({ ...process.env, ...storeEnv('chaos') });
      const startedAt = Date.now();
      await startBatch(stack);
      let done = 0;
      const finished = Promise.all(runIds.map((id) => resultOf(stack, id).finally(() => done++)));
      finished.catch(() => undefined); // awaited below, after the kills
      const kills: KillRecord[] = [];
      for (const k of o.killPlan) {
        const at = Math.ceil(k.share * clean.ledger.received);
        await waitFor(async () => ledger.received >= at || undefined, `${at} LLM calls before the next kill`, 200_000, 50);
        kills.push(await lineUpKill(stack, startedAt, k.target, () => done));
      }
      const resultList = await finished;
      await stack.workersReady();
      chaos = { stack, store, results: new Map(runIds.map((id, i) => [id, resultList[i]])), ledger, wallMs: Date.now() - startedAt, kills };

      // The figures, before the checks, so a failure shows them too.
      const inFlightAtKills = kills.reduce((n, k) => n + k.inFlight.length, 0);
      // A request held across two kills (the next kill's hold began before its reply went out) is in
      // both kills' lists, but cut off by one at most.
      const lost = kills.flatMap((k) => k.cutOff);
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        [
          `chaos batch: ${RUNS} runs, 2 worker processes, ${kills.filter((k) => k.target.startsWith('worker')).length} worker kills and ${kills.filter((k) => k.target === 'server').length} server kill (SIGKILL)${kills.some((k) => k.target === targetName('postgres')) ? ', PostgreSQL restarted once' : ''}, store: ${s3 ? 'S3' : 'local folder'}`,
          '| kill | at | lined up in | runs done | LLM calls in flight (by stage) | cut off with the killed process | asked again after it |',
          '| --- | --- | --- | --- | --- | --- | --- |',
          ...kills.map(
            (k) =>
              `| ${k.target} | ${k.atS.toFixed(1)} s | ${k.lineUpS.toFixed(1)} s | ${k.runsDone}/${RUNS} | ${k.inFlight.length} (${listCounts(k.inFlightByStage)}) | ${k.cutOff.length} | ${k.inFlight.filter((r) => ledger.askedAgainAfter(r)).length} |`,
          ),
          `LLM calls: clean batch ${clean.ledger.received}; chaos batch ${ledger.received} (${ledger.byCall.size} distinct), repeated ${ledger.repeated} (${listCounts(ledger.repeatedByStage())}); in flight at the kills ${inFlightAtKills}, cut off ${lost.length} (${lost.filter((r) => turnOf(r) > 0).length} of them continuations of an answered first turn)`,
          `wall time: clean batch ${s(clean.wallMs)} (no LLM latency); chaos batch ${s(chaos.wallMs)} (stage calls ${STAGE_LATENCY_MS} ms, first call after ${s(ledger.firstAt - startedAt)})`,
        ].join('\n'),
      );

      for (const [id, r] of chaos.results) expect(r.status, id).toBe('completed');
      // Every logical call of the clean batch was made, and nothing else: the rest are repeats.
      expect(ledger.byCall.size).toBe(clean.ledger.received);
      // The bound: repeated calls are at most the calls in flight at the kills.
      expect(ledger.repeated).toBeLessThanOrEqual(inFlightAtKills);
      // Exactly: a call is asked again once for each time it was cut off with a killed worker, and
      // never when its reply reached a live one (a server kill cuts nothing off: the retried activity
      // finds the reply in the worker's LLM call cache).
      const lostKeys = lost.map(callKey);
      const unexplained = [...ledger.byCall]
        .filter(([key, c]) => c.count - 1 !== lostKeys.filter((k) => k === key).length)
        .map(([key, c]) => `${c.model} ${c.stage}: asked ${c.count} times, cut off ${lostKeys.filter((k) => k === key).length} times`);
      expect(unexplained).toEqual([]);
      // The kills cut off continuations whose first turn had been answered: their retries asked only
      // for the continuation, the first turn coming from the call cache (a missing cache fails above).
      expect(lost.filter((r) => turnOf(r) > 0).length).toBeGreaterThan(0);
    }, 300_000);

    it('every artifact of every chaos run has the clean run\'s sha256', async () => {
      expect(chaos, 'the chaos batch ran').toBeDefined();
      let exact = 0;
      let masked = 0;
      let byAddress = 0;
      for (const id of runIds) {
        // Each stage's document by the content address the run returned (the experiment's results.md
        // lists its commands' durations: it is among the files compared with those masked, below).
        for (const stage of STAGES) {
          const ref = clean.results.get(id)!.artifacts[stage]!;
          if (TIMED_FILE.test(nameInRun(ref))) continue;
          expect(chaos.results.get(id)!.artifacts[stage]?.sha256, `${id} ${stage}`).toBe(ref.sha256);
          byAddress++;
        }
        // Every readable file of the run; see TIMED_FILE for the few compared with durations masked.
        const reference = await runFileDigests(clean.store, id, maskTimings);
        expect(reference.size, `${id} has files`).toBeGreaterThan(10);
        expect(digestDifferences(reference, await runFileDigests(chaos.store, id, maskTimings)), id).toEqual([]);
        for (const name of reference.keys()) TIMED_FILE.test(name) ? masked++ : exact++;
      }
      console.log(`artifacts: ${exact + masked} files in ${RUNS} runs match the clean batch: ${exact} byte for byte, ${masked} with command durations masked; ${byAddress} stage documents by content address`);
    }, 120_000);
  });
}
