/**
 * Run as another (non-root) user by tests/hostileFiles.test.ts: root reads a folder whatever its
 * mode, so an unreadable folder can only be met by someone else. Snapshots, lists and collects
 * the run's workspace and prints what each reported, as JSON.
 * Arguments: <workspace root> <run id> <artifact store root>.
 */
import path from 'node:path';
import { LocalArtifactStore } from '../../activities/store/localStore.js';
import { listTree } from '../../activities/competition/files.js';
import { snapshotWorkspace } from '../../activities/environment/workspace.js';
import { createResultsActivities } from '../../activities/experiment/results.js';

const [workspaces, runId, storeRoot] = process.argv.slice(2);
process.env.LAB_WORKSPACE_DIR = workspaces;
const store = new LocalArtifactStore(storeRoot);
const snapshot = await snapshotWorkspace(runId);
const listing = await listTree(path.join(workspaces, runId));
const result = await createResultsActivities({ store }).collectExperimentResults({
  runId,
  step: 1,
  pending: {
    action: { action: 'run', command: 'python3 experiment.py' },
    observation: { action: 'run', ok: true, text: '', exitCode: 0, filesChanged: [{ path: 'results/metrics.csv', change: 'added', bytes: 1 }] },
  },
  end: 'finished',
});
const manifest = JSON.parse(await store.getText(result.files.find((f) => f.path.endsWith('/experiment/collected.json'))!));
console.log(JSON.stringify({ snapshot: snapshot.skipped, listing: listing.unlisted, status: result.status, collected: manifest.skipped }));
