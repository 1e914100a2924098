/** `lab judge`: rubric reviews (MLR-Judge) of a run of ours or of a folder of another agent's outputs, by one or more judges. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Table from 'cli-table3';
import { z } from 'zod';
import { documentsInFolder, missingDocuments, requiredDocuments } from '../../activities/judge/documents.js';
import { cliStore, uploadForWorkers } from '../lib/store.js';
import { unenforceableBudget } from '../../activities/llm/prices.js';
import { splitBudget } from '../../common/budget.js';
import { ALLOW_UNCALIBRATED_JUDGE_FLAG, isEmbeddedJudge, UNCALIBRATED_NOTE, uncalibratedJudgeRefusal } from '../../common/judgeCalibration.js';
import { AUTO_MODEL, isAutoModel, parseModelSpec } from '../../common/modelSpec.js';
import { REVIEW_KINDS, type ReviewInput, type ReviewKind, type ReviewSubject } from '../../common/reviews.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag, repeatedFlag } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { exitInterrupted, onInterrupt } from '../lib/interrupt.js';
import { list, modelSpec, runIdToFind } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';
import { awaitReview, documentsOfRunId, startReview, type ReviewOutcome } from '../lib/reviews.js';
import { runPreflight } from '../lib/preflight.js';
import { runLink } from '../lib/uiLink.js';
import { budgetOf, budgetOptions } from './run.js';

/** What `--kind auto` picks: every kind whose documents exist; MLRC's rubric only when asked for. */
const AUTO_KINDS: ReviewKind[] = ['idea', 'proposal', 'experiment', 'paper', 'end_to_end', 'hallucination'];

const kindList = (value: string): ReviewKind[] | 'auto' => {
  if (value === 'auto') return 'auto';
  if (value === 'all') return [...REVIEW_KINDS];
  const names = list('--kind')(value);
  const unknown = names.find((n) => !(REVIEW_KINDS as readonly string[]).includes(n));
  if (unknown) throw new Error(`--kind: unknown review kind "${unknown}" (kinds: ${REVIEW_KINDS.join(', ')}, auto, all)`);
  return names as ReviewKind[];
};

/** Repeated `--judge` options, each a model spec (default: auto, as lab run). */
// `auto` stays `auto` here: a worker chooses it from its keys (the preflight below says which).
const judgeSpecs = repeatedFlag('--judge', modelSpec('--judge'), [AUTO_MODEL]).refine((specs) => specs.length <= 8, { message: 'at most 8 judges per review' });

export const judgeCommand = defineCommand({
  summary: 'review a run (or a folder of outputs) on the MLR-Judge rubrics, with one or more judges in parallel',
  usage:
    'lab judge <runId> [--judge MODEL ...] [--kind auto|all|idea,proposal,experiment,paper,end_to_end,hallucination,mlrc] [--no-code]\n' +
    '          [--budget-usd N] [--max-tokens N] [--allow-uncalibrated-judge] [--detach] [--json]\n' +
    '       lab judge --dir <folder> ...   (a folder laid out as MLR-Bench lays out outputs: idea.md, proposal.md, results/paper.md, ...)\n\n' +
    '  --judge MODEL     a judge model spec; repeat for several judges, who score in parallel (default: auto, as lab run)\n' +
    '  --kind LIST       review kinds: idea, proposal, experiment, paper, end_to_end, hallucination, mlrc; auto (default) = every\n' +
    '                    kind the documents allow except mlrc; all = every kind. Each kind is one review workflow\n' +
    '  --no-code         end_to_end, hallucination and mlrc reviews without the code (MLRC-Bench judges both ways)\n' +
    '  --budget-usd, --max-tokens   the reviews\' budget, split evenly between kinds and judges\n' +
    '  --allow-uncalibrated-judge   let an embedded judge (embedded[:file], or auto choosing it) review; no model that\n' +
    '                    small judges meaningfully, so without this flag it is refused (exit 2) and with it its reviews say not calibrated\n' +
    '  --detach          start the reviews and return; --json prints the outcomes (scores, mean, disagreement) as JSON\n' +
    'Reads: idea needs task+idea; proposal task+proposal (+idea, related_work); experiment task+log; paper, end_to_end,\n' +
    'hallucination and mlrc need task+paper. Exit 0 all reviews done, 1 a judge failed its preflight, 2 bad input, 3 a review failed.',
  options: {
    dir: { type: 'string' },
    judge: { type: 'string', multiple: true },
    kind: { type: 'string' },
    'no-code': { type: 'boolean' },
    'allow-uncalibrated-judge': { type: 'boolean' },
    'budget-usd': { type: 'string' },
    'max-tokens': { type: 'string' },
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: ['runId'],
  schema: z
    .object({
      runId: z.string().optional().transform((v, ctx) => {
        if (v === undefined) return undefined;
        try {
          return runIdToFind(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
      dir: flag((v) => {
        const folder = path.resolve(v);
        if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`--dir: folder not found: ${v}`);
        return folder;
      }),
      judge: judgeSpecs,
      kind: flag(kindList),
      'no-code': booleanFlag,
      'allow-uncalibrated-judge': booleanFlag,
      ...budgetOptions,
      detach: booleanFlag,
      json: booleanFlag,
    })
    .superRefine((a, ctx) => {
      if (!a.runId === !a.dir) ctx.addIssue({ code: 'custom', message: 'give either a run id or --dir <folder> (not both)' });
    }),
  async run(a) {
    const budget = budgetOf(a);
    // An embedded judge named outright is refused before anything connects; `auto` is checked once a worker has chosen.
    const allowUncalibrated = a['allow-uncalibrated-judge'];
    const embedded = a.judge.find(isEmbeddedJudge);
    if (embedded && !allowUncalibrated) throw new CliError(uncalibratedJudgeRefusal(`--judge ${embedded}`), 2);
    for (const judge of a.judge.filter((j) => !isAutoModel(j))) {
      const unenforceable = unenforceableBudget(parseModelSpec(judge), budget);
      if (unenforceable) throw new CliError(unenforceable, 2);
    }
    return withClient(async ({ client }) => {
      let subject: ReviewSubject;
      let subjectName: string;
      let available: (kind: ReviewKind) => boolean;
      if (a.runId) {
        const documents = await documentsOfRunId(client, a.runId);
        subject = { source: 'run', runId: a.runId, documents };
        subjectName = a.runId;
        available = (kind) => !missingDocuments(kind, documents).length;
      } else {
        subjectName = path.basename(path.resolve(a.dir!)).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '') || 'folder';
        available = (kind) => !missingDocuments(kind, documentsInFolder(a.dir!)).length;
        subject = { source: 'folder', path: '.', name: subjectName, upload: 'pending' as never };
      }
      const kinds = a.kind === undefined || a.kind === 'auto' ? AUTO_KINDS.filter(available) : a.kind;
      if (!kinds.length) throw new CliError(`nothing to review: ${subjectName} has none of the documents a review reads`, 2);
      const missing = kinds.filter((k) => !available(k));
      if (missing.length) {
        const needs = missing.map((k) => `${k}: ${requiredDocuments(k).join(', ')}`).join('; ');
        throw new CliError(`${subjectName} lacks documents these reviews need (${needs})`, 2);
      }

      // A judge without its key or model fails here, before any review starts (the checks run on the workers).
      const checks = await Promise.all(
        a.judge.map((judge, i) => runPreflight(client, `${subjectName.slice(0, 100)}.judge-preflight-${i + 1}-${Date.now().toString(36)}`, judge, { sandbox: false, literature: false })),
      );
      if (checks.includes('no-worker') && !a.json) process.stderr.write('lab judge: no worker answered the preflight check in time; starting anyway\n');
      const problems = checks.flatMap((c) => (c === 'no-worker' ? [] : c.problems));
      if (problems.length) throw new CliError(`preflight found ${problems.length} problem(s); no review was started:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      // `auto` as the worker chose it (the review itself takes concrete specs): without an answer there is no choice to start with.
      const judges = [
        ...new Set(
          a.judge.map((judge, i) => {
            if (!isAutoModel(judge)) return judge;
            const check = checks[i];
            if (check === 'no-worker' || !check.model) throw new CliError('--judge auto: no worker answered to choose the model from its keys; nothing was started (start a worker, or name the judge: --judge openai:<model>)');
            const unenforceable = unenforceableBudget(parseModelSpec(check.model), budget);
            if (unenforceable) throw new CliError(`--judge auto chose ${check.model} on the workers: ${unenforceable}; nothing was started`, 2);
            if (isEmbeddedJudge(check.model) && !allowUncalibrated) throw new CliError(uncalibratedJudgeRefusal('--judge auto', ` (chosen by a worker without provider keys: ${check.model})`), 2);
            return check.model;
          }),
        ),
      ];

      if (subject.source === 'folder') {
        // The workers may be on other hosts: the folder goes to them through the store.
        const upload = await uploadForWorkers(cliStore(), subjectName, a.dir!, a.json);
        subject = { ...subject, upload: upload.manifest };
      }
      const started = [];
      for (const kind of kinds) {
        const input: ReviewInput = {
          kind,
          subject,
          judges,
          ...(a['no-code'] ? { withCode: false } : {}),
          ...(budget ? { budget: splitBudget(budget, kinds.length) } : {}),
        };
        started.push(await startReview(client, subjectName, input));
      }
      if (!a.json) {
        print(`started ${started.length} review(s) of ${subjectName} by ${judges.join(', ')}${a.judge.some(isAutoModel) ? ' (auto: chosen by a worker from its keys)' : ''}`);
        for (const s of started) print(`  ${s.kind.padEnd(14)} ${s.reviewId}  ${runLink(s.reviewId)}`);
        const uncalibrated = judges.filter(isEmbeddedJudge);
        if (uncalibrated.length) print(`  ${uncalibrated.join(', ')}: ${UNCALIBRATED_NOTE} (${ALLOW_UNCALIBRATED_JUDGE_FLAG})`);
      }
      if (a.detach) {
        if (a.json) printJson(started);
        return EXIT.ok;
      }
      const stop = onInterrupt(() => {
        process.stderr.write('\nstopped waiting; the reviews go on in Temporal (see the links above)\n');
        exitInterrupted();
      });
      try {
        const outcomes = await Promise.all(started.map((s) => awaitReview(client, s)));
        if (a.json) printJson(outcomes);
        else print(`${formatOutcomes(outcomes)}\n(files under ${cliStore().location})`);
        // Failures go to stderr, once each, in both modes.
        for (const o of outcomes) if (o.error) process.stderr.write(`${failureLines(o)}\n`);
        return outcomes.some((o) => o.error) ? EXIT.runFailed : EXIT.ok;
      } finally {
        stop();
      }
    });
  },
});

export function formatOutcomes(outcomes: ReviewOutcome[]): string {
  const table = new Table({ head: ['review', 'judge', 'overall', 'scores', 'file'], style: { head: [], border: [] } });
  const uncalibrated = new Set<string>();
  for (const o of outcomes) {
    for (const v of o.result?.verdicts ?? []) {
      const scores = Object.entries(v.scores).filter(([name]) => !/^overall/i.test(name)).map(([name, score]) => `${name} ${score}`).join(', ');
      if (v.calibrated === false) uncalibrated.add(v.judge);
      table.push([o.kind, v.calibrated === false ? `${v.judge} (not calibrated)` : v.judge, v.overall ?? (v.hasHallucination === undefined ? '-' : v.hasHallucination ? 'hallucination found' : 'none found'), scores, v.artifact.path]);
    }
    const mean = o.result?.mean;
    if (mean && (o.result?.verdicts.length ?? 0) > 1) {
      const overall = Object.entries(mean).find(([name]) => /^overall/i.test(name));
      const spread = Object.entries(o.result?.disagreement ?? {}).map(([name, d]) => `${name} ±${d.sd}`).join(', ');
      table.push([o.kind, 'mean of judges', overall ? overall[1] : '-', `disagreement (sd): ${spread}`, o.result?.summary?.path ?? '']);
    }
  }
  const notes = [...uncalibrated].map((judge) => `${judge}: ${UNCALIBRATED_NOTE}`);
  return [table.toString(), ...notes].join('\n');
}

/** A failed review: why (each judge named once, by the workflow's message), what it spent, where it is kept. */
function failureLines(o: ReviewOutcome): string {
  const lines = [`lab judge: ${o.kind} review ${o.reviewId} failed: ${o.error}`];
  const r = o.result;
  if (r?.summary) {
    const spent = `${r.usage.llmCalls} call(s), ${r.usage.inputTokens + r.usage.outputTokens} tokens${r.usage.costUsd ? `, $${r.usage.costUsd}` : ''}`;
    lines.push(`  this attempt (${spent}) is kept apart in ${r.summary.path}; it replaces no earlier completed review`);
  }
  return lines.join('\n');
}
