// @module-tag postgres
/**
 * PostgreSQL runs a transaction's function again after a serialization
 * failure or a deadlock (Store.transaction's contract). Here the server itself
 * fails the first COMMIT with SQLSTATE 40001, so each operation's body runs
 * twice: every report must still count each row once.
 */
import { describe, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { importSeedFile } from '../../src/import/service.js';
import { SAMPLE_TOKENS, writeSamplePskc } from '../../src/import/sample.js';
import { assignFromCsv } from '../../src/provision/assign.js';
import { claimToken } from '../../src/provision/enroll.js';
import { resyncToken } from '../../src/provision/lifecycle.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import { importUsers } from '../../src/provision/users-import.js';
import type { PostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { base32, totp } from '../provision/helpers-ss.js';
import { postgresBackend, useBackend } from './backends.js';

/** Makes the server refuse the next `n` COMMITs with a serialization failure (a real 40001 from PostgreSQL, not a fake error). */
function failNextCommits(store: Store): { arm(n: number): void; forced(): number } {
  const pool = (store as PostgresStore).pool;
  let left = 0;
  let forced = 0;
  const wrapped = new WeakSet<pg.PoolClient>();
  const connect = pool.connect.bind(pool) as (cb?: unknown) => Promise<pg.PoolClient>;
  (pool as { connect: (cb?: unknown) => Promise<pg.PoolClient> }).connect = async (cb?: unknown) => {
    // pool.query() connects with a callback: leave those (single statements, no COMMIT) alone.
    if (cb) return connect(cb);
    const client = await connect();
    if (!wrapped.has(client)) {
      wrapped.add(client);
      const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
      (client as { query: (...a: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
        if (args[0] === 'COMMIT' && left > 0) {
          left--;
          forced++;
          await query(
            "DO $$ BEGIN RAISE EXCEPTION 'serialization failure forced by the test' USING ERRCODE = '40001'; END $$",
          );
        }
        return query(...args);
      };
    }
    return client;
  };
  return { arm: (n) => (left = n), forced: () => forced };
}

const SEED = Buffer.from('3132333435363738393031323334353637383930', 'hex'); // RFC 6238 test seed

const backend = postgresBackend();
describe('postgres: a transaction run twice after a serialization failure', () => {
  const test = useBackend(backend);
  let dir = '';

  const setup = async () => {
    const store = await backend.fresh();
    dir = mkdtempSync(join(tmpdir(), 'tokensmith-pg-retry-'));
    await createResource(store, { name: 'vpn' });
    return { store, retry: failNextCommits(store) };
  };
  const done = () => rmSync(dir, { recursive: true, force: true });

  test('importUsers counts each user and assignment once', async () => {
    const { store, retry } = await setup();
    await addToken(store, { serial: 'S1', secret: base32(SEED), resource: 'vpn' });
    const csv = 'login,email,resources,token\nann,ann@example.org,vpn,S1\nbob,,vpn,\n';
    retry.arm(1);
    const report = await importUsers(store, 'users.csv', { text: csv });
    expect(retry.forced()).toBe(1);
    expect(report).toMatchObject({ imported: 2, assigned: 1, failed: 0, errors: [], cannotSignIn: ['bob'] });
    expect((await store.users.list()).map((u) => u.login)).toEqual(['ann', 'bob']);
    done();
  });

  test('importUsers with a bad line reports it once', async () => {
    const { store, retry } = await setup();
    await addUser(store, { login: 'ann', resources: ['vpn'] });
    retry.arm(1);
    const report = await importUsers(store, 'users.csv', { text: 'login,resources\nann,vpn\ncid,vpn\n' });
    expect(report).toMatchObject({ imported: 0, failed: 1, errors: [{ where: 'users.csv:2' }] });
    done();
  });

  test('a seed file import counts each token once', async () => {
    const { store, retry } = await setup();
    const file = join(dir, 'sample.pskc.xml');
    writeSamplePskc(file, 'pw', SAMPLE_TOKENS);
    retry.arm(1);
    const summary = await importSeedFile(store, { file, password: 'pw' });
    expect(retry.forced()).toBe(1);
    expect(summary).toMatchObject({ imported: SAMPLE_TOKENS.length, skipped: 0, failed: 0, errors: [] });
    expect(await store.tokens.count()).toBe(SAMPLE_TOKENS.length);
    done();
  });

  test('assignFromCsv counts each assignment once', async () => {
    const { store, retry } = await setup();
    await addToken(store, { serial: 'S1', secret: base32(SEED), resource: 'vpn' });
    await addToken(store, { serial: 'S2', secret: base32(SEED), resource: 'vpn' });
    await addUser(store, { login: 'ann', resources: ['vpn'] });
    await addUser(store, { login: 'bob', resources: ['vpn'] });
    const file = join(dir, 'assign.csv');
    writeFileSync(file, 'serial,login,resource\nS1,ann,vpn\nS2,bob,vpn\n');
    retry.arm(1);
    const report = await assignFromCsv(store, file);
    expect(retry.forced()).toBe(1);
    expect(report).toMatchObject({ assigned: 2, failed: 0, errors: [] });
    expect(report.assignments.map((a) => a.serial)).toEqual(['S1', 'S2']);
    done();
  });

  test('a claim with a wrong code counts one failed attempt', async () => {
    const { store, retry } = await setup();
    await setResourcePermissions(store, 'vpn', { allow: true, actions: 'enroll', tokenTypes: 'classic' });
    await addToken(store, { serial: 'S1', secret: base32(SEED), resource: 'vpn' });
    await addUser(store, { login: 'ann', resources: ['vpn'] });
    const at = new Date('2030-01-01T00:00:00Z');
    const wrong = totp(SEED, at, 50);
    retry.arm(1);
    await expect(
      claimToken(store, { resource: 'vpn', login: 'ann', serial: 'S1', code: wrong, at, via: 'admin' }),
    ).rejects.toMatchObject({ code: 'code-rejected' });
    expect(retry.forced()).toBe(1);
    const t = (await store.tokens.findBySerial('S1'))[0]!;
    expect(t.failedAttempts).toBe(1);
    retry.arm(1);
    const ok = await claimToken(store, {
      resource: 'vpn',
      login: 'ann',
      serial: 'S1',
      code: totp(SEED, at),
      at,
      via: 'admin',
    });
    expect(ok).toMatchObject({ serial: 'S1', state: 'enrolled' });
    done();
  });

  test('a resync that finds the codes reports the drift once', async () => {
    const { store, retry } = await setup();
    await setResourcePermissions(store, 'vpn', { allow: true, actions: 'synchronize' });
    await addToken(store, { serial: 'S1', secret: base32(SEED), resource: 'vpn' });
    const at = new Date('2030-01-01T00:00:00Z');
    retry.arm(1);
    const r = await resyncToken(store, 'S1', [totp(SEED, at, 7), totp(SEED, at, 8)], { at });
    expect(retry.forced()).toBe(1);
    expect(r).toMatchObject({ serial: 'S1' });
    expect((await store.tokens.findBySerial('S1'))[0]!.driftSteps).toBe(8);
    const audit = await store.audit.list({ subject: 'token:S1' });
    expect(audit.filter((a) => a.action === 'token.resync')).toHaveLength(1);
    done();
  });
});
