/** Follows a run until it closes, reporting each stage as it changes. */
import type { Client } from '@temporalio/client';
import type { PendingGate, RunProgress, StageProgress } from '../../common/schemas.js';
import { decisionCommands, formatActive, formatProgress, formatStageLine, workerWaitLines, type LocateArtifact } from './format.js';
import { queryProgress, viewRun, type RunView } from './runs.js';

export interface FollowOptions {
  /** Where a person opens an artifact (the store's `locate`). */
  locate: LocateArtifact;
  /** Redraw a live block (terminal) instead of printing one line per change. */
  live?: boolean;
  pollMs?: number;
  write?: (text: string) => void;
  /** Called once for each gate that opens (stage and revision), e.g. to ask at the terminal. */
  onGate?: (gate: PendingGate) => Promise<void>;
  /** Without onGate: return (the run still RUNNING) once a gate waits for a decision, instead of following on. */
  stopAtGate?: boolean;
}

const REPORTED: Array<StageProgress['status']> = ['done', 'reused', 'awaiting_review', 'failed', 'rejected'];

export async function followRun(client: Client, runId: string, o: FollowOptions): Promise<RunView> {
  const write = o.write ?? ((t: string) => process.stdout.write(t));
  const seen = new Map<string, string>();
  let drawnLines = 0;
  let lastProgress: RunProgress | undefined;
  let warnedNoWorker = false;
  const gatesSeen = new Set<string>();
  let lastRetry = '';
  let lastLost = '';
  for (;;) {
    const view = await viewRun(client, runId);
    const progress = view.execution === 'RUNNING' ? view.progress : await queryProgress(client, runId, 2000);
    if (progress) {
      lastProgress = progress;
      if (o.live) {
        const block = formatProgress(runId, progress, o.locate, view.activeStage);
        write((drawnLines ? `\x1b[${drawnLines}F\x1b[J` : '') + block + '\n');
        drawnLines = block.split('\n').length;
      } else {
        for (const s of progress.stages) {
          const key = `${s.status}:${s.runs}`;
          if (REPORTED.includes(s.status) && seen.get(s.stage) !== key) {
            seen.set(s.stage, key);
            write(formatStageLine(s, o.locate) + '\n');
            if (s.status === 'awaiting_review' && !o.onGate) {
              write(`  waiting for review: ${decisionCommands(runId, s.stage, Math.max(0, s.runs - 1))}\n`);
            }
          }
        }
        // Retries are worth a line: a rate limit or an outage explains a slow stage.
        const active = view.activeStage;
        const retry = active && active.attempt > 1 ? `${progress.currentStage}: ${formatActive({ ...active, outputTokens: undefined })}` : '';
        if (retry && retry !== lastRetry) write(`  retrying ${retry}\n`);
        lastRetry = retry;
        // A worker that died mid-stage: say so once per lost attempt, not a silent "running".
        const lost = active?.waitingForWorker ? `${active.attempt}` : '';
        if (lost && lost !== lastLost) write(`  ${workerWaitLines(active)[0]}\n`);
        lastLost = lost;
      }
      const gate = progress.pendingGate;
      if (gate && o.onGate && !gatesSeen.has(`${gate.stage}/${gate.revisionsUsed}`)) {
        gatesSeen.add(`${gate.stage}/${gate.revisionsUsed}`);
        await o.onGate(gate);
        continue;
      }
      if (gate && o.stopAtGate && !o.onGate && view.execution === 'RUNNING') return { ...view, progress };
    } else if (!warnedNoWorker && view.execution === 'RUNNING') {
      warnedNoWorker = true;
      write('(no worker is answering yet; start one with `lab worker`; waiting)\n');
    }
    if (view.execution !== 'RUNNING') {
      if (!view.progress && lastProgress) view.progress = lastProgress;
      return view;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
}
