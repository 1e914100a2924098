/**
 * The research agent for real, with a scripted model: literature searched on fake arXiv /
 * Semantic Scholar / OpenAlex servers and checked; a scikit-learn experiment written and run in
 * the bubblewrap sandbox; a paper whose numbers are checked against what the code wrote; a
 * cancelled run whose sandboxed processes die; and a preflight that refuses before any paid call.
 */
import { checkDocuments } from '../activities/integrity/check/engine.js';
import { readPaperFolder } from '../activities/integrity/check/folder.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResearchRunResult } from '../common/schemas.js';
import { prepareRun, resumeRun, startRun } from '../scripts/lib/runs.js';
import { progressQuery, reviewUpdate } from '../workflows/definitions.js';
import type { FakeLlmServer, FakeRequest } from './fakes/fakeLlmServer.js';
import { FakeLiteratureServers } from './fakes/literatureServers.js';
import { recordedOutput, scriptedReply, stageOfPrompt } from './fakes/recordedOutputs.js';
import { experimentStep, scriptedExperimentReply, type ScriptedSteps } from './fakes/scriptedExperiment.js';
import { startScriptedLab, type ScriptedLab, type TestLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';
import { SCRIPT_SHAPE } from '../activities/experiment/prompts.js';
import { hostProcessesWith } from './helpers/processes.js';

const SKLEARN_EXPERIMENT = `import json, os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score
os.makedirs("results", exist_ok=True)
X, y = load_iris(return_X_y=True)
rows = []
for name, model in [("logistic_regression", LogisticRegression(max_iter=500)), ("random_forest", RandomForestClassifier(n_estimators=50, random_state=0))]:
    scores = cross_val_score(model, X, y, cv=5)
    rows.append({"method": name, "accuracy": round(float(scores.mean()), 4), "std": round(float(scores.std()), 4)})
with open("results/metrics.csv", "w") as f:
    f.write("method,accuracy,std\\n")
    for r in rows:
        f.write(f"{r['method']},{r['accuracy']},{r['std']}\\n")
plt.bar([r["method"] for r in rows], [r["accuracy"] for r in rows])
plt.ylabel("5-fold accuracy"); plt.title("Iris: baseline vs random forest")
plt.savefig("results/accuracy.png")
print(json.dumps(rows))
`;

const SKLEARN_STEPS: ScriptedSteps = [
  { action: { action: 'write_file', path: 'main.py', content: SKLEARN_EXPERIMENT } },
  { action: { action: 'run', command: 'python main.py', timeoutSeconds: 120 } },
  { action: { action: 'read_file', path: 'results/metrics.csv' } },
  { action: { action: 'finish', summary: 'Compared logistic regression and a random forest on iris with 5-fold cross-validation.' } },
];

let env: TestWorkflowEnvironment;
let lab: TestLab;
let fake: FakeLlmServer;
let scripted: ScriptedLab;
const literature = new FakeLiteratureServers();
/** Per-test: a number the scripted paper claims that no file holds (undefined: an honest paper). */
let plantedNumber: string | undefined;
let experimentSteps: ScriptedSteps = SKLEARN_STEPS;
/** Per-test: the experiment step whose replies (and re-ask) are not valid JSON. */
let garbledStep: number | undefined;
/** Per-test: the agent's answer when a file it wrote was not code and it is asked once more. */
let codeAgain: ScriptedSteps[number] | undefined;
/** Per-test: the model lists these ids at GET /models (preflight). */

/** The paper a model would write from its prompt: it quotes the measured accuracy it was shown. */
function scriptedPaper(prompt: string): string {
  const accuracy = /\| random_forest \| (0\.\d+) \|/.exec(prompt)?.[1] ?? 'unknown';
  const figure = /!\[accuracy\.png\]\((results\/accuracy\.png)\)/.exec(prompt)?.[1];
  const cite = /^- (arXiv:\S+): /m.exec(prompt)?.[1];
  return [
    '# Random forests on iris',
    '## Results',
    `The random forest reached a mean 5-fold accuracy of ${accuracy}.${plantedNumber ? ` Our tuned variant reached ${plantedNumber}.` : ''}`,
    figure ? `![Accuracy of each method](${figure})` : '',
    cite ? `This follows earlier work [${cite}](https://arxiv.org/abs/${cite.slice(6)}).` : '',
    plantedNumber ? 'It also beats [arXiv:2599.99999](https://arxiv.org/abs/2599.99999), a paper nobody retrieved.' : '',
  ].join('\n\n');
}

/** The review a model would write: it cites two retrieved papers, and one it made up. */
function scriptedReview(prompt: string): string {
  const listed = [...prompt.matchAll(/^- \[((?:arXiv|DOI|S2|OpenAlex):[^\]]+)\]\(([^)]+)\)/gm)].slice(0, 2);
  return [
    '# Related work',
    ...listed.map(([, id, url]) => `Prior work studies this [${id}](${url}).`),
    'A famous result [arXiv:2599.99999](https://arxiv.org/abs/2599.99999) settles it.',
    '## Key Challenges',
    '- calibration under shift',
  ].join('\n\n');
}

beforeAll(async () => {
  await literature.start();
  scripted = await startScriptedLab(
    (req: FakeRequest) => {
      const step = experimentStep(req.prompt);
      // The re-ask after an invalid reply is the last user turn; an agent that answers garbage keeps doing so.
      if (garbledStep !== undefined && (step === garbledStep || (garbledStep && req.prompt.startsWith('That reply is not valid')))) return { text: '{"thought": "cut off' };
      if (step !== undefined && codeAgain && req.prompt.includes('## Your reply was not used')) return { text: JSON.stringify(codeAgain) };
      if (step !== undefined) return { text: scriptedExperimentReply(step, experimentSteps) };
      if (req.prompt.startsWith('Write a literature review')) return { text: scriptedReview(req.prompt) };
      if (stageOfPrompt(req.prompt) === 'paper') return { text: scriptedPaper(req.prompt) };
      return { text: scriptedReply(req.prompt) ?? recordedOutput('idea') };
    },
    { literatureEnv: literature.env() },
  );
  ({ env, lab, fake } = scripted);
  fake.models = ['scripted'];
});

afterAll(async () => {
  await scripted?.teardown();
  await literature.stop();
});

/** Requests for papers (searches and look-ups), not the preflight's one-result pings of each backend. */
function searchRequests(): number {
  return literature.requests.filter((r) => r.query.search_query !== 'all:learning' && r.query.query !== 'learning' && !r.path.endsWith('/works/W2741809807')).length;
}

async function start(id: string, gates?: { stages: Array<'idea' | 'literature' | 'proposal' | 'experiment' | 'paper'> }, model = `openai-compatible:scripted@${fake.openaiBaseURL}`) {
  const { input } = await prepareRun(
    { task: 'calibration-under-shift', model, workflowId: id, gates, stageTimeouts: { startToCloseSeconds: 120, heartbeatSeconds: 30, maxAttempts: 2 } },
  );
  return startRun(env.client, id, input);
}

describe('the research agent, end to end', () => {
  it('searches and checks literature, runs a real experiment, and writes a paper whose numbers were measured', async () => {
    plantedNumber = undefined;
    experimentSteps = SKLEARN_STEPS;
    const id = `agent-honest-${Date.now()}`;
    const handle = await start(id);
    const result: ResearchRunResult = await handle.result();
    expect(result.status).toBe('completed');
    const folder = lab.store.runFolder(id);

    // Literature: found by search, the invented citation removed, the rest verified.
    const review = readFileSync(path.join(folder, 'related_work.md'), 'utf8');
    expect(review).toContain('[citation removed: not a retrieved paper]');
    expect(review).not.toContain('2599.99999');
    expect(review).toMatch(/## References\n\n- .+\[arXiv:/);
    // The review itself ends with the check's findings.
    expect(review).toMatch(/## Citation check\n\n> Checked by Durable Lab .*: citations: \d+ verified, 0 flagged\.\n$/);
    const references = JSON.parse(readFileSync(path.join(folder, 'references.json'), 'utf8'));
    expect(references.length).toBeGreaterThan(0);
    const progress = await handle.query(progressQuery);
    const lit = progress.stages[1].checks!;
    expect(lit.literature!.retrieved).toBeGreaterThan(0);
    expect(lit.literature!.backends.every((b) => b.ok)).toBe(true);
    expect(lit.citations).toMatchObject({ flagged: 0 });
    expect(lit.citations!.verified).toBeGreaterThan(0);

    // Experiment: real scikit-learn code ran in the sandbox; results.md comes from its files.
    const csv = readFileSync(path.join(folder, 'results', 'metrics.csv'), 'utf8');
    const forest = /random_forest,(0\.\d+),/.exec(csv)![1];
    const results = readFileSync(path.join(folder, 'results', 'results.md'), 'utf8');
    expect(results).toContain(`| random_forest | ${forest} |`);
    expect(results).toContain('![results/accuracy.png](accuracy.png)');
    expect(readFileSync(path.join(folder, 'results', 'accuracy.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(path.join(folder, 'results', 'log.txt'), 'utf8')).toMatch(/=== step 2: \$ python main\.py\nexit 0/);
    expect(readdirSync(path.join(folder, 'experiment', 'steps'))).toEqual(expect.arrayContaining(['001.json', '001-prompt.md', '003.json']));
    expect(progress.stages[3].checks!.experiment).toMatchObject({ status: 'succeeded', commands: 1 });

    // Paper: quotes the measured number, embeds the figure, cites a verified paper; provenance finds nothing unmatched.
    const paper = readFileSync(path.join(folder, 'paper.md'), 'utf8');
    expect(paper).toContain(`accuracy of ${forest}`);
    expect(paper).toContain('](results/accuracy.png)');
    const provenance = JSON.parse(readFileSync(path.join(folder, 'provenance.json'), 'utf8'));
    expect(provenance).toMatchObject({ version: 2, status: 'ok', flagged: 0 });
    expect(provenance.results).toBeGreaterThan(0);
    expect(progress.stages[4].checks).toMatchObject({ provenance: { unmatched: 0 }, citations: { flagged: 0 } });
  });

  it('flags a number and a citation the paper invented, in provenance.json, the paper itself and the progress', async () => {
    plantedNumber = '0.9912';
    const id = `agent-planted-${Date.now()}`;
    const handle = await start(id);
    await handle.result();
    const provenance = JSON.parse(readFileSync(path.join(lab.store.runFolder(id), 'provenance.json'), 'utf8'));
    const flagged = provenance.findings.filter((f: { role: string; verdict: string }) => f.role === 'result' && ['unsupported', 'mismatch', 'typed'].includes(f.verdict));
    expect(flagged).toEqual([expect.objectContaining({ document: 'paper.md', text: '0.9912', verdict: 'unsupported' })]);
    const checks = (await handle.query(progressQuery)).stages[4].checks!;
    expect(checks.provenance).toMatchObject({ unmatched: 1 });
    expect(checks.citations).toMatchObject({ flagged: 1 });
    const paper = readFileSync(path.join(lab.store.runFolder(id), 'paper.md'), 'utf8');
    expect(paper).toMatch(/## Citation check\n\n> .*1 flagged.*\n- \*\*flagged\*\* arXiv:2599\.99999: not found/);
    // The integrity section ends the paper with counts by verdict and the flagged claim marked: the judges read it.
    expect(paper).toMatch(/## Integrity check \(Durable Lab\)\n\n> .*Result claims: \d+; flagged: 1\./);
    expect(paper).toMatch(/- line \d+, in no measured file: .*\*\*⟦0\.9912⟧\*\*/);
    // lab check on the run's folder reads it as a Durable Lab run and finds the same flag (and nothing in its own appended sections).
    const folder = await readPaperFolder(lab.store.runFolder(id));
    expect(folder.layout).toBe('durable-lab');
    expect(folder.sources.filter((s) => s.as === 'measured').map((s) => s.file)).toEqual(expect.arrayContaining(['results/metrics.csv']));
    const again = checkDocuments(folder);
    expect(again.findings.filter((f) => f.role === 'result' && ['unsupported', 'mismatch', 'typed'].includes(f.verdict)).map((f) => f.text)).toEqual(['0.9912']);
    plantedNumber = undefined;
  });

  it('a resumed run asks the search APIs nothing again', async () => {
    const id = `agent-resume-${Date.now()}`;
    const handle = await start(id, { stages: ['literature'] });
    await waitFor(async () => (await handle.query(progressQuery)).pendingGate?.stage === 'literature' || undefined, 'the literature gate');
    await handle.terminate('test: stopped at the literature gate');
    const searched = searchRequests();
    expect(searched).toBeGreaterThan(0);
    // The review waited at its gate, unapproved: the resumed run writes it again, and its searches
    // are answered from the literature cache without asking the APIs.
    const resumed = await resumeRun(env.client, id);
    expect(resumed.reused).toEqual(['idea']);
    // The resumed run keeps the gate policy: it waits at the literature gate again.
    const again = env.client.workflow.getHandle(resumed.workflowId);
    await waitFor(async () => (await again.query(progressQuery)).pendingGate?.stage === 'literature' || undefined, 'the resumed run at the literature gate');
    await again.executeUpdate(reviewUpdate, { args: [{ action: 'approve' }] });
    expect((await again.result()).status).toBe('completed');
    expect(searchRequests()).toBe(searched);
  });

  it('a results file the agent typed itself is not a result', async () => {
    experimentSteps = [
      { action: { action: 'write_file', path: 'results/metrics.csv', content: 'method,accuracy\nours,0.99\n' } },
      { action: { action: 'finish', summary: 'Our method reaches 0.99.' } },
    ];
    const id = `agent-typed-${Date.now()}`;
    const handle = await start(id);
    await handle.result();
    const progress = await handle.query(progressQuery);
    expect(progress.stages[3].checks!.experiment).toMatchObject({ status: 'failed_experiment', commands: 0 });
    const results = readFileSync(path.join(lab.store.runFolder(id), 'results', 'results.md'), 'utf8');
    expect(results).toContain('## Not counted as results');
    expect(results).not.toContain('| ours | 0.99 |');
    expect(readFileSync(path.join(lab.store.runFolder(id), 'paper.md'), 'utf8')).toContain('the experiment produced no results');
    experimentSteps = SKLEARN_STEPS;
  });

  it('an experiment that produces no results ends as failed_experiment and the paper still gets written', async () => {
    experimentSteps = [{ action: { action: 'run', command: 'python -c "import sys; sys.exit(2)"' } }, { action: { action: 'finish', summary: 'The script failed.' } }];
    const id = `agent-failed-${Date.now()}`;
    const handle = await start(id);
    const result: ResearchRunResult = await handle.result();
    expect(result.status).toBe('completed');
    const progress = await handle.query(progressQuery);
    expect(progress.stages[3].checks!.experiment).toMatchObject({ status: 'failed_experiment', reason: expect.stringMatching(/no result files in results\/.*1 command run, 1 failed/) });
    expect(readFileSync(path.join(lab.store.runFolder(id), 'results', 'results.md'), 'utf8')).toContain('failed experiment: no result files');
    experimentSteps = SKLEARN_STEPS;
  });
});


describe('the experiment loop steers a small model', () => {
  it('refuses a finish before any command wrote a result file, and each prompt ends with the next move', async () => {
    experimentSteps = [
      { action: { action: 'write_file', path: 'main.py', content: SKLEARN_EXPERIMENT } },
      { action: { action: 'finish', summary: 'Done before running anything.' } },
      { action: { action: 'run', command: 'python main.py', timeoutSeconds: 120 } },
      { action: { action: 'finish', summary: 'Ran main.py; results/metrics.csv holds each method.' } },
    ];
    const id = `agent-steer-${Date.now()}`;
    const handle = await start(id);
    expect((await handle.result()).status).toBe('completed');
    const progress = await handle.query(progressQuery);
    expect(progress.stages[3].checks!.experiment).toMatchObject({ status: 'succeeded', commands: 1 });
    const steps = path.join(lab.store.runFolder(id), 'experiment', 'steps');
    const refused = JSON.parse(readFileSync(path.join(steps, '002.json'), 'utf8'));
    expect(refused.observation).toMatchObject({ action: 'finish', ok: false, text: expect.stringMatching(/^finish refused: no command has written a result file/) });
    const prompt = (n: number) => readFileSync(path.join(steps, `00${n}-prompt.md`), 'utf8');
    // The instruction for the step comes last, with the move the loop needs next.
    expect(prompt(1)).toMatch(/## Now\nExperiment step 1 of at most \d+[^\n]*\nStart by writing the whole experiment as one script[^]*nothing else\.$/);
    expect(prompt(2)).toMatch(/## Now\nExperiment step 2 [^\n]*\nYou wrote main\.py and have not run it since: run it now/);
    expect(prompt(3)).toContain('finish refused: no command has written a result file');
    expect(prompt(4)).toMatch(/Result files written by your commands: results\/metrics\.csv\. If they hold/);
    // What stays the same from step to step comes first, so the next prompt extends the last one's prefix.
    const history = (n: number) => prompt(n).indexOf('## Your steps so far');
    expect(prompt(2).slice(0, history(2))).toBe(prompt(1).slice(0, history(1)));
    experimentSteps = SKLEARN_STEPS;
  });

  it("says so in results.md when the script that ran is the brief's example with hardly a change", async () => {
    experimentSteps = [
      { action: { action: 'write_file', path: 'main.py', content: SCRIPT_SHAPE } },
      { action: { action: 'run', command: 'python main.py', timeoutSeconds: 120 } },
      { action: { action: 'finish', summary: 'Ran main.py.' } },
    ];
    const id = `agent-example-${Date.now()}`;
    const handle = await start(id);
    expect((await handle.result()).status).toBe('completed');
    const results = readFileSync(path.join(lab.store.runFolder(id), 'results', 'results.md'), 'utf8');
    expect(results).toContain("## The brief's example script, run as it stands");
    expect(results).toMatch(/- `main\.py` \(`\d+ of the example's \d+ lines kept, 0 of its own`\) is the example from the agent's instructions/);
    expect(readFileSync(path.join(lab.store.runFolder(id), 'experiment', 'steps', '003-prompt.md'), 'utf8')).toMatch(/But main\.py is still the example from the instructions/);
    experimentSteps = SKLEARN_STEPS;
  });

  it('asks once more when a script it writes is a sentence, not code, and writes the answer instead', async () => {
    experimentSteps = [
      { action: { action: 'write_file', path: 'main.py', content: 'The whole file as one JSON string, every line of it' } },
      { action: { action: 'run', command: 'python main.py', timeoutSeconds: 120 } },
      { action: { action: 'finish', summary: 'Ran main.py.' } },
    ];
    codeAgain = { thought: 'The program itself.', action: { action: 'write_file', path: 'main.py', content: SKLEARN_EXPERIMENT } };
    const id = `agent-prose-${Date.now()}`;
    const handle = await start(id);
    expect((await handle.result()).status).toBe('completed');
    const steps = path.join(lab.store.runFolder(id), 'experiment', 'steps');
    expect(JSON.parse(readFileSync(path.join(steps, '001.json'), 'utf8')).action.content).toBe(SKLEARN_EXPERIMENT);
    const progress = await handle.query(progressQuery);
    expect(progress.stages[3].checks!.experiment).toMatchObject({ status: 'succeeded', commands: 1 });
    // Both answers of step 1 are counted: 2 + run + finish.
    expect(progress.stages[3].usage.llmCalls).toBe(4);
    codeAgain = undefined;
    experimentSteps = SKLEARN_STEPS;
  });

  it('a reply that stays invalid JSON costs one step, not the experiment: the step lists the workspace and says why', async () => {
    experimentSteps = [{ action: { action: 'list_files' } }, ...SKLEARN_STEPS];
    garbledStep = 1;
    const id = `agent-garbled-${Date.now()}`;
    const handle = await start(id);
    expect((await handle.result()).status).toBe('completed');
    garbledStep = undefined;
    const first = JSON.parse(readFileSync(path.join(lab.store.runFolder(id), 'experiment', 'steps', '001.json'), 'utf8'));
    expect(first.action).toEqual({ action: 'list_files', path: '.' });
    expect(first.thought).toMatch(/^\[Durable Lab: the model gave no usable action at this step \(.*returned invalid JSON twice.*\); the step lists the workspace instead\.\]$/);
    const progress = await handle.query(progressQuery);
    expect(progress.stages[3].checks!.experiment).toMatchObject({ status: 'succeeded', commands: 1 });
    // The two failed calls of step 1 are counted with the others (2 + 4 scripted steps after it).
    expect(progress.stages[3].usage.llmCalls).toBe(6);
    experimentSteps = SKLEARN_STEPS;
  });

  it('accepts the finish after two refusals: a run with no results still ends, as failed_experiment', async () => {
    experimentSteps = [{ action: { action: 'finish', summary: 'Nothing to run.' } }];
    const id = `agent-steer-give-up-${Date.now()}`;
    const handle = await start(id);
    expect((await handle.result()).status).toBe('completed');
    const progress = await handle.query(progressQuery);
    expect(progress.stages[3].checks!.experiment).toMatchObject({ status: 'failed_experiment', steps: 3, commands: 0 });
    experimentSteps = SKLEARN_STEPS;
  });
});

describe('stopping and refusing', () => {
  it('cancelling a run mid-experiment kills the sandboxed processes', async () => {
    const marker = `lab-agent-cancel-${process.pid}`;
    experimentSteps = [
      { action: { action: 'run', command: `sh -c 'sleep 300; echo ${marker}' & sleep 300 # ${marker}`, timeoutSeconds: 600 } },
      { action: { action: 'finish', summary: 'never reached' } },
    ];
    const id = `agent-cancel-${Date.now()}`;
    const handle = await start(id);
    await waitFor(async () => hostProcessesWith(marker).length >= 2 || undefined, 'the sandboxed command to be running', 90_000);
    await handle.cancel();
    await handle.result().catch(() => undefined);
    await waitFor(async () => hostProcessesWith(marker).length === 0 || undefined, 'every sandboxed process to be gone', 30_000);
    expect(hostProcessesWith(marker)).toEqual([]);
    experimentSteps = SKLEARN_STEPS;
  });

  it('preflight: a model the endpoint does not offer, or a key it refuses, stops the run before any paid call', async () => {
    const before = fake.requests.length;
    const listed = fake.modelListRequests;
    // In the run: the worker serving llm.openai has no OPENAI_API_KEY, so the run fails at preflight.
    const handle = await start(`agent-preflight-${Date.now()}`, undefined, 'openai:gpt-imaginary');
    const err = await handle.result().catch((e) => e);
    expect(err.cause?.type).toBe('PreflightFailed');
    expect(err.cause?.message).toMatch(/preflight found 1 problem\(s\): openai:gpt-imaginary: .*(OPENAI_API_KEY|connection failed)/);
    const progress = await handle.query(progressQuery);
    expect(progress.stages.every((st) => st.status === 'skipped')).toBe(true);

    fake.models = ['some-other-model'];
    const envOpenAi = { ...process.env, OPENAI_API_KEY: 'sk-test-key', OPENAI_BASE_URL: fake.openaiBaseURL };
    const { checkModel } = await import('../activities/preflight/llm.js');
    expect(await checkModel('openai:gpt-imaginary', envOpenAi)).toEqual([expect.stringMatching(/openai does not offer model "gpt-imaginary"/)]);
    expect(await checkModel('openai:gpt-imaginary', { ...envOpenAi, OPENAI_API_KEY: '' })).toEqual([expect.stringMatching(/needs OPENAI_API_KEY/)]);
    expect(await checkModel('embedded:/no/such.gguf')).toEqual([expect.stringMatching(/embedded model file not found/)]);
    expect(fake.modelListRequests).toBeGreaterThan(listed);
    expect(fake.requests.length).toBe(before);
    fake.models = ['scripted'];
  });
});
