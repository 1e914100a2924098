/**
 * What keeps a competition's hidden split out of a method's reach, on the real bubblewrap sandbox:
 * data drawn from a per-benchmark secret that never enters a workspace, scikit-learn's bundled data
 * sets hidden from every untrusted command of a competition run, no lag feature that carries another
 * scored row's target, a read tripwire on the decoy labels, and a scorer that returns an outcome
 * (never throws) whatever a submission leaves behind. The generic cheats themselves are run by the
 * task audit (competitionAudit.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCompetitionActivities, type CompetitionActivities } from '../activities/competition/index.js';
import { secretsDir } from '../activities/competition/secrets.js';
import { createEnvironmentActivities, type EnvironmentActivities } from '../activities/environment/index.js';
import { BubblewrapBackend } from '../activities/sandbox/index.js';
import { useScratchEnv } from './helpers/scratchEnv.js';

describe('leak-proof competitions (bubblewrap)', () => {
  const scratch = useScratchEnv('leaks', { LAB_WORKSPACE_DIR: 'workspaces', LAB_COMPETITION_HIDDEN_DIR: 'hidden', LAB_COMPETITION_SCORING_DIR: 'scoring' });
  let acts: CompetitionActivities;
  let env: EnvironmentActivities;

  beforeAll(() => {
    const backend = new BubblewrapBackend();
    acts = createCompetitionActivities({ store: scratch.store, backend });
    env = createEnvironmentActivities({ store: scratch.store, backend });
  });

  function activity<I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> {
    return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn, input);
  }
  const workspace = (runId: string) => path.join(process.env.LAB_WORKSPACE_DIR!, runId);
  const hidden = (runId: string, rel: string) => readFileSync(path.join(process.env.LAB_COMPETITION_HIDDEN_DIR!, runId, rel), 'utf8');
  const setMethod = (runId: string, source: string) => fs.writeFile(path.join(workspace(runId), 'methods', 'baseline.py'), source);

  it('draws the data from a secret per data key: one key, one data set; the secret never reaches a workspace', async () => {
    await activity(acts.prepareCompetition, { runId: 'key-a1', task: 'friedman-regression', dataKey: 'bench-a' });
    await activity(acts.prepareCompetition, { runId: 'key-a2', task: 'friedman-regression', dataKey: 'bench-a' });
    await activity(acts.prepareCompetition, { runId: 'key-b1', task: 'friedman-regression', dataKey: 'bench-b' });
    expect(hidden('key-a1', 'hidden/test.csv')).toBe(hidden('key-a2', 'hidden/test.csv'));
    expect(hidden('key-a1', 'hidden/test.csv')).not.toBe(hidden('key-b1', 'hidden/test.csv'));
    expect(JSON.parse(hidden('key-a1', 'manifest.json'))).toMatchObject({ dataKey: 'bench-a' });

    const secret = readFileSync(path.join(secretsDir(), 'bench-a.key'), 'utf8').trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    // Nothing in the workspace holds the secret or the script that uses it.
    const files = execFileSync('find', [workspace('key-a1'), '-type', 'f'], { encoding: 'utf8' }).trim().split('\n');
    expect(files.map((f) => path.basename(f))).not.toContain('prepare.py');
    for (const f of files) expect(readFileSync(f, 'utf8').includes(secret), f).toBe(false);
    // prepare.py's own folder (with its copy of the secret) is gone from the hidden folder too.
    expect(readdirSync(path.join(process.env.LAB_COMPETITION_HIDDEN_DIR!, 'key-a1'))).not.toContain('prep');
  });

  it("hides scikit-learn's bundled data sets from a competition run's commands, not from a research run's", async () => {
    await activity(acts.prepareCompetition, { runId: 'bundled-comp', task: 'digits-rotated' });
    await fs.mkdir(workspace('bundled-research'), { recursive: true });
    const command = 'python -c "from sklearn.datasets import load_digits; print(load_digits().data.shape)"';
    const step = (runId: string) => activity(env.envStep, { runId, step: 1, action: { action: 'run' as const, command } });
    const research = await step('bundled-research');
    expect(research.text).toContain('(1797, 64)');
    const competition = await step('bundled-comp');
    expect(competition.ok).toBe(false);
    expect(competition.text).toMatch(/FileNotFoundError: .*digits\.csv\.gz/);

    // The same at scoring time: a method that reloads the bundled digits cannot (it falls back to the baseline here).
    await setMethod(
      'bundled-comp',
      `from sklearn.linear_model import LogisticRegression


def build():
    from sklearn.datasets import load_digits
    try:
        load_digits()
        raise SystemExit("the bundled digits were readable")
    except FileNotFoundError:
        return LogisticRegression(max_iter=2000)
`,
    );
    const scored = await activity(acts.scoreCompetition, { runId: 'bundled-comp', task: 'digits-rotated', split: 'dev' });
    expect(scored.status, scored.reason).toBe('scored');
  });

  it("sales-forecast: no dev or test row's lags land on another scored row of its store", async () => {
    await activity(acts.prepareCompetition, { runId: 'lags', task: 'sales-forecast' });
    for (const rel of ['public/dev.csv', 'hidden/test.csv']) {
      const [header, ...rows] = hidden('lags', rel).trim().split('\n').map((l) => l.split(','));
      const col = (name: string) => header!.indexOf(name);
      const scored = new Set(rows.map((r) => `${r[col('store')]}:${r[col('day')]}`));
      const leaks = rows.flatMap((r) => [7, 14, 21, 28, 35].filter((lag) => scored.has(`${r[col('store')]}:${Number(r[col('day')]) - lag}`)));
      expect(rows.length).toBeGreaterThan(300);
      expect(leaks, rel).toEqual([]);
    }
  });

  it('a method that only reads the decoy labels (for their distribution) is invalid', async () => {
    await activity(acts.prepareCompetition, { runId: 'peek', task: 'sales-forecast' });
    await setMethod(
      'peek',
      `import pandas as pd


class Peek:
    def fit(self, X, y):
        self.level = float(pd.read_csv("data/test_labels.csv")["target"].median())
        return self

    def predict(self, X):
        return X["sales_lag_7"].fillna(self.level).to_numpy()


def build():
    return Peek()
`,
    );
    const peek = await activity(acts.scoreCompetition, { runId: 'peek', task: 'sales-forecast', split: 'test' });
    expect(peek.status).toBe('invalid');
    expect(peek.reason).toMatch(/^read hidden labels: the method opened data\/test_labels\.csv/);
  });

  it('the scorer returns an outcome, never throws, and leaves no scoring folder, whatever the method leaves behind', async () => {
    await activity(acts.prepareCompetition, { runId: 'deep', task: 'friedman-regression' });
    // During scoring the method builds a tree deeper than PATH_MAX in the scoring folder and a fifo beside it.
    await setMethod(
      'deep',
      `import os
from sklearn.linear_model import LinearRegression


def build():
    os.mkfifo("pipe")
    fd = os.open(".", os.O_RDONLY)
    for _ in range(60):
        name = "d" * 100
        os.mkdir(name, dir_fd=fd)
        child = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)
    return LinearRegression()
`,
    );
    const scored = await activity(acts.scoreCompetition, { runId: 'deep', task: 'friedman-regression', split: 'dev' });
    expect(['scored', 'failed'], scored.reason).toContain(scored.status);
    expect(readdirSync(process.env.LAB_COMPETITION_SCORING_DIR!)).toEqual([]);

    // The same tree inside methods/ itself: still an outcome, not a thrown error.
    execFileSync('python3', ['-c', `import os\nfd=os.open(${JSON.stringify(path.join(workspace('deep'), 'methods'))}, os.O_RDONLY)\nfor _ in range(60):\n    os.mkdir("e"*100, dir_fd=fd)\n    c=os.open("e"*100, os.O_RDONLY, dir_fd=fd)\n    os.close(fd)\n    fd=c`]);
    const again = await activity(acts.scoreCompetition, { runId: 'deep', task: 'friedman-regression', split: 'dev' });
    expect(['scored', 'failed']).toContain(again.status);
    expect(existsSync(process.env.LAB_COMPETITION_SCORING_DIR!) ? readdirSync(process.env.LAB_COMPETITION_SCORING_DIR!) : []).toEqual([]);
  });
});
