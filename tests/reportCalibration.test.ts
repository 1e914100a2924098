/**
 * Embedded judging is labelled in the files `lab report` writes, not only on the terminal: with an
 * embedded judge among a report's judges, report.md and report.html say it is not calibrated at
 * their head (before any table), mark that judge wherever its name is shown, and report.json carries
 * `calibrated: false` with the note. A report of provider judges only carries none of it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UNCALIBRATED_NOTE } from '../common/judgeCalibration.js';
import type { ReportInput, ReviewRecord } from '../report/types.js';
import { writeReport } from '../report/writeReport.js';

const EMBEDDED = 'embedded:qwen2.5-1.5b-instruct.gguf';
const API = 'openai:gpt-4o-mini';
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Two judges' idea reviews of two agents on two tasks: enough for a scores table and an agreement table. */
function input(judges: string[]): ReportInput {
  const records: ReviewRecord[] = [];
  for (const judge of judges)
    for (const [i, task] of ['task-1', 'task-2'].entries())
      for (const [j, agent] of ['agent-a', 'agent-b'].entries())
        records.push({ kind: 'idea', task, agent, judge, scores: { Clarity: 5 + i + j, OverallAssessment: 4 + i + j + (judge === EMBEDDED ? 1 : 0) }, source: `${judge}/${task}/${agent}.json` });
  return { title: 'calibration report', records, runs: [], failures: [] };
}

async function written(judges: string[]): Promise<{ md: string; html: string; json: Record<string, unknown>; read: (name: string) => string }> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'lab-report-calibration-'));
  dirs.push(out);
  await writeReport(input(judges), out);
  const read = (name: string) => readFileSync(path.join(out, name), 'utf8');
  return { md: read('report.md'), html: read('report.html'), json: JSON.parse(read('report.json')), read };
}

describe('a report with an embedded judge', () => {
  it('says it is not calibrated at the head of report.md and report.html, marks the judge, and sets calibrated: false in report.json', async () => {
    const { md, html, json, read } = await written([API, EMBEDDED]);
    const note = `${EMBEDDED}: ${UNCALIBRATED_NOTE}`;
    const marked = `${EMBEDDED} (not calibrated)`;

    // report.md: the note right under the title, before the summary and every table.
    const mdLines = md.split('\n');
    const noteLine = mdLines.findIndex((l) => l.includes(note));
    expect(noteLine, md).toBeGreaterThan(0);
    expect(noteLine).toBeLessThan(5);
    expect(noteLine).toBeLessThan(mdLines.findIndex((l) => l.startsWith('|')));
    expect(md.indexOf(note)).toBeLessThan(md.indexOf('## Idea scores'));
    // The judge is marked in the summary, in the scores table's legend and in the judge columns.
    expect(mdLines.find((l) => l.includes('judge reviews'))).toContain(marked);
    const scoresSection = md.split('## Idea scores\n')[1].split('\n## ')[0];
    expect(scoresSection).toContain(`judges: ${marked}, ${API}`);
    const agreementSection = md.split('## Judge agreement (overall scores)\n')[1].split('\n## ')[0];
    expect(agreementSection).toContain(`| ${marked} |`);
    expect(agreementSection).not.toMatch(new RegExp(`\\| ${EMBEDDED.replace(/[.]/g, '\\.')} \\|`));

    // report.html: the note before the first table, the judge marked in its tables.
    const htmlNote = html.indexOf(note);
    expect(htmlNote, html).toBeGreaterThan(html.indexOf('<h1>'));
    expect(htmlNote).toBeLessThan(html.indexOf('<table'));
    expect(htmlNote).toBeLessThan(html.indexOf('<h2>'));
    expect(html).toContain(`<td>${marked}</td>`);

    // report.json and the CSV tables.
    expect(json).toMatchObject({ calibrated: false, calibration: note });
    expect(read('judge_agreement.csv')).toContain(marked);
    expect(read('judge_means.csv')).toContain(marked);
    // The provider judge stays unmarked.
    expect(md).not.toContain(`${API} (not calibrated)`);
  });
});

describe('a report with provider judges only', () => {
  it('carries no calibration note, no mark and no calibrated key', async () => {
    const { md, html, json, read } = await written([API, 'anthropic:claude-sonnet-4']);
    for (const text of [md, html, JSON.stringify(json), read('judge_agreement.csv'), read('scores_idea.csv')]) {
      expect(text).not.toContain('not calibrated');
      expect(text).not.toContain(UNCALIBRATED_NOTE);
    }
    expect(json).not.toHaveProperty('calibrated');
    expect(json).not.toHaveProperty('calibration');
    expect(md.split('## Idea scores\n')[1]).toMatch(/^\n_mean of judge means, ± standard error over tasks_\n/);
  });
});
