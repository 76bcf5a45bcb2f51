/**
 * Setup file of the unit tier (npm run test:unit): a test file there must not
 * start a process. Spawning throws and names the tag the file needs, so the
 * tier stays cheap and the tags (test/helpers/tiers.ts) stay true.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const refuse = (name: string) => () => {
  throw new Error(
    `the unit tier starts no process (${name}): tag this test file "// @module-tag subprocess" (or daemon); see test/helpers/tiers.ts`,
  );
};
const spawning = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
const mutable = childProcess as unknown as Record<string, unknown>;
for (const name of spawning) mutable[name] = refuse(name);
syncBuiltinESMExports();
