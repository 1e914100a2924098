import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the real Temporal cluster on PostgreSQL (tests/cluster/*.cluster.ts),
 * kept out of `npm test` because its first run builds the Temporal server with go install.
 */
export default defineConfig({
  test: {
    include: ['tests/cluster/**/*.cluster.ts'],
    maxWorkers: 1,
    // The test that runs the first `lab cluster up` sets its own, longer timeout (it may build the Go programs).
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
