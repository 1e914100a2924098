/**
 * The steering repo's shared/ folder beside the checkout: test data CI has and a user's clone
 * does not. Suites must pass without it; `LAB_TEST_SHARED_DIR=/nonexistent npm test` checks that.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../../activities/config.js';

export const SHARED_DIR = process.env.LAB_TEST_SHARED_DIR || path.resolve(PROJECT_ROOT, '..', 'shared');
