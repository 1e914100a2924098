import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the real Temporal cluster on PostgreSQL (tests/cluster/*.cluster.ts),
 * kept out of `npm test` because its first run builds the Temporal server with go install.
 */
export default defineConfig({
  test: {
    include: ['tests/cluster/**/*.cluster.ts'],
    maxWorkers: 1,
    // The first `lab cluster up` on a machine builds three Go programs (about 5-10 min on 2 cores).
    testTimeout: 1_200_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
