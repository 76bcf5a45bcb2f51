/**
 * vitest global setup: one PostgreSQL cluster per run. It makes the run's folder;
 * the first test file that calls startTestPostgres() starts the cluster there
 * (so a run without PostgreSQL tests starts none), and the teardown stops it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopSharedCluster } from './postgres.js';

export default function setup(): () => void {
  if (process.env.TOKENSMITH_TEST_PG_URL || process.env.TOKENSMITH_TEST_PG_RUN) return () => undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-pg-run-'));
  // Test workers are forked after the global setup, so they inherit this.
  process.env.TOKENSMITH_TEST_PG_RUN = dir;
  return () => {
    try {
      stopSharedCluster(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      delete process.env.TOKENSMITH_TEST_PG_RUN;
    }
  };
}
