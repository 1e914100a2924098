// Entry point the worker bundles: every workflow type the `research` queue serves.
export { researchRun } from './researchRun.js';
export { experimentRun } from './experimentRun.js';
export { preflight } from './preflight.js';
export { review } from './review.js';
export { benchmark } from './benchmark.js';
export { benchItem } from './benchItem.js';
export { competitionRun } from './competitionRun.js';
export { envSession } from './envSession.js';
