#!/usr/bin/env node
// `npx lab` entry: loads the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./lab.ts');
process.exit(await main(process.argv.slice(2)));
