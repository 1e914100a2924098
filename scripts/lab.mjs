#!/usr/bin/env node
// The one entry point of `lab` (`npx lab`, `node scripts/lab.mjs`, `npm run lab`): loads the
// TypeScript CLI through tsx's loader (no build step) and runs it once.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./lab.ts');
process.exitCode = await main(process.argv.slice(2));
// Long-running commands (server, worker) resolve only when they are done; exit without waiting for stray handles.
process.exit();
