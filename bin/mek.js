#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so a fresh clone works right after
// `npm install` with no build step and no stale compiled output.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
