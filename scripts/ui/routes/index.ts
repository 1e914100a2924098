/** The console's routes kept in their own modules, tried in order after the runs list and run pages. */
import { BENCHMARK_ROUTES } from './benchmarks.js';
import { COMPETITION_ROUTES } from './competitions.js';
import { ENV_ROUTES } from './envs.js';
import { runFileRoute } from './files.js';
import type { UiRoute } from './types.js';

export const ROUTES: UiRoute[] = [...BENCHMARK_ROUTES, ...COMPETITION_ROUTES, ...ENV_ROUTES, runFileRoute];
