/** `lab show`: a run's artifact paths and its final paper. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifacts.js';
import { artifactRoot } from '../../activities/config.js';
import { booleanFlag, defineCommand } from '../lib/command.js';
import { formatRun } from '../lib/format.js';
import { print, printJson, withClient } from '../lib/output.js';
import { viewRun } from '../lib/runs.js';
import { viewOtherWorkflow } from '../lib/otherWorkflows.js';
import { workflowType } from '../lib/client.js';
import { markStopped, runIdPositional } from './status.js';

export const showCommand = defineCommand({
  summary: 'show a run’s artifact paths and print its final paper',
  usage: 'lab show <runId> [--json]',
  options: { json: { type: 'boolean' } },
  positionals: ['runId'],
  schema: z.object({ runId: runIdPositional, json: booleanFlag }),
  async run({ runId, json }) {
    const store = new ArtifactStore(artifactRoot());
    return withClient(async ({ client }) => {
      const other = await viewOtherWorkflow(client, runId, await workflowType(client, runId));
      if (other) {
        if (json) printJson(other.json);
        else print(other.text);
        const paper = path.join(store.runFolder(runId), 'paper.md');
        if (!json && existsSync(paper)) print(`\n${'='.repeat(30)} paper.md ${'='.repeat(30)}\n${readFileSync(paper, 'utf8')}`);
        return other.exitCode;
      }
      const view = await viewRun(client, runId, { queryTimeoutMs: 2000 });
      const artifacts = view.result?.artifacts ?? Object.fromEntries(Object.entries(view.memo.completed).map(([k, v]) => [k, v!.artifact]));
      const paths = Object.fromEntries(Object.entries(artifacts).map(([stage, ref]) => [stage, store.localPath(ref!)]));
      const folder = store.runFolder(runId);
      if (json) return void printJson({ runId, status: view.stopped?.how ?? view.status, ...(view.stopped ? { stopped: view.stopped } : {}), folder, artifacts: paths });
      print(markStopped(formatRun(view, store.root), view));
      print(`folder: ${folder}`);
      if (artifacts.paper) print(`\n${'='.repeat(30)} paper.md ${'='.repeat(30)}\n${await store.getText(artifacts.paper)}`);
      else print('(no paper yet)');
    });
  },
});
