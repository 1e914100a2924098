/**
 * Chaos on the PostgreSQL cluster (issue 18): the dev server's chaos test (tests/chaos.test.ts,
 * scenario in tests/helpers/chaosSuite.ts) with the chaos batch on `lab cluster up` (4 history
 * shards): three worker SIGKILLs, one SIGKILL of the Temporal server (brought back by `lab cluster
 * up`) and one PostgreSQL restart during the batch. The clean reference batch runs on a dev server.
 */
import path from 'node:path';
import { beforeAll } from 'vitest';
import { runLab } from '../helpers/labProcesses.js';
import { chaosSuite } from '../helpers/chaosSuite.js';
import { tempDir } from '../helpers/temporal.js';
import { clusterServer, freeClusterPorts } from './clusterServer.js';

/** The first `lab cluster install` on a machine builds the Temporal server and its SQL tool (minutes on 2 cores). */
const INSTALL_TIMEOUT_MS = 1_200_000;

beforeAll(async () => {
  const installed = await runLab(['cluster', 'install', '--no-ui'], { LAB_HOME: tempDir('cluster-install') });
  if (installed.code !== 0) throw new Error(`lab cluster install failed: ${installed.stderr}`);
}, INSTALL_TIMEOUT_MS);

chaosSuite({
  title: 'chaos on the PostgreSQL cluster: 20 research runs through worker, server and PostgreSQL restarts',
  killPlan: [
    { share: 0.12, target: 0 },
    { share: 0.28, target: 1 },
    { share: 0.42, target: 'server' },
    { share: 0.56, target: 'postgres' },
    { share: 0.7, target: 0 },
  ],
  chaosServer: async (dir) => clusterServer(path.join(dir, 'cluster-home'), await freeClusterPorts()),
});
