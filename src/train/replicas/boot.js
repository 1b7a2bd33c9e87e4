// Replica threads start as plain Node: register tsx first so the TypeScript worker loads the
// same way the CLI does (bin/mek.js), under vitest as well.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
