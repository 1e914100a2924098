/**
 * Chaos on the dev server (issue 18): 20 research runs, two worker processes, three worker
 * SIGKILLs and one server SIGKILL. The scenario and its checks: tests/helpers/chaosSuite.ts; the
 * same on the PostgreSQL cluster: tests/cluster/chaos.cluster.ts.
 */
import { chaosSuite } from './helpers/chaosSuite.js';

chaosSuite({
  title: 'chaos: 20 research runs through worker and server kills',
  killPlan: [
    { share: 0.12, target: 0 },
    { share: 0.3, target: 1 },
    { share: 0.48, target: 'server' },
    { share: 0.66, target: 0 },
  ],
});
