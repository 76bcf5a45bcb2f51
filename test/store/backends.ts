/**
 * The store test-suite's backends: each test gets a fresh, empty store on
 * SQLite (a temp file) and, where PostgreSQL is available, on PostgreSQL (a
 * fresh database in a throw-away cluster, see test/helpers/postgres.ts).
 */
import { afterAll, afterEach, beforeAll, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** Why this backend is skipped here, or null. */
  skip: string | null;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A fresh store with a fresh master key (or the env given). */
  fresh(env?: NodeJS.ProcessEnv): Promise<Store>;
  /** Another connection to the last fresh store's database, as a second station would open it. */
  reopen(env: NodeJS.ProcessEnv): Promise<Store>;
  cleanup(): Promise<void>;
}

export const keyEnv = (): NodeJS.ProcessEnv => ({ TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') });

export function sqliteBackend(): Backend {
  const dirs: string[] = [];
  const stores: Store[] = [];
  let last = '';
  return {
    name: 'sqlite',
    skip: null,
    async setup() {},
    async teardown() {},
    async fresh(env = keyEnv()) {
      const d = mkdtempSync(join(tmpdir(), 'tokensmith-backend-'));
      dirs.push(d);
      last = join(d, 't.db');
      const s = openSqliteStore({ path: last, env, operator: 'test' });
      stores.push(s);
      return s;
    },
    async reopen(env) {
      const s = openSqliteStore({ path: last, env, operator: 'test' });
      stores.push(s);
      return s;
    },
    async cleanup() {
      for (const s of stores.splice(0)) await s.close();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): Backend {
  let server: TestPostgres | null = null;
  const stores: Store[] = [];
  let last = '';
  const skip = skipPgReason();
  return {
    name: 'postgres',
    skip,
    async setup() {
      if (!skip) server = await startTestPostgres();
    },
    async teardown() {
      await server?.stop();
    },
    async fresh(env = keyEnv()) {
      last = await server!.createDatabase();
      const s = await openPostgresStore({ url: last, env, operator: 'test' });
      stores.push(s);
      return s;
    },
    async reopen(env) {
      const s = await openPostgresStore({ url: last, env, operator: 'test' });
      stores.push(s);
      return s;
    },
    async cleanup() {
      for (const s of stores.splice(0)) await s.close();
    },
  };
}

/**
 * Inside a `describe.each(backends)`: starts the backend once, cleans up after
 * each test, and returns the `it` to use (`it.skip`, with the reason listed, where
 * the backend is missing).
 */
export function useBackend(backend: Backend) {
  beforeAll(async () => {
    if (!backend.skip) await backend.setup();
  }, 60_000);
  afterAll(async () => {
    if (!backend.skip) await backend.teardown();
  });
  afterEach(() => backend.cleanup());
  if (backend.skip) it.skip(`skipped: ${backend.skip}`, () => undefined);
  return backend.skip ? it.skip : it;
}
