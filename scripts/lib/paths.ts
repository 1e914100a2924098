// Kept for existing imports: every path is owned by activities/config.ts.
export { PROJECT_ROOT, temporalBinary, timeSkippingBinary } from '../../activities/config.js';
