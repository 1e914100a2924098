// Entry point the worker bundles: every workflow type the `research` queue serves.
export { researchRun } from './researchRun.js';
