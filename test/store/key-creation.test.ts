/**
 * Issue 26 items 8 and 9 at the store, on both backends: a store that is not
 * there is not created where the caller only reads; opening a store never
 * creates a key file; `audit verify` without the key checks the chain and says
 * that the anchor was not checked.
 */
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tokensmith-keys-'));
  dirs.push(d);
  return d;
}

async function writeSomething(store: Store): Promise<void> {
  await store.tokens.insert({ ...baseToken, serial: 'K1', seed: Buffer.from('12345678901234567890') });
  await store.audit.append({ action: 'token.add', subject: 'token:K1' });
  await store.audit.append({ action: 'token.lost', subject: 'token:K1' });
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name: the store and its key', (backend) => {
  const it = useBackend(backend);

  it('opening a new store creates no key file; the first seal does, and says so', async () => {
    const keyFile = join(tempDir(), 'master.key');
    const notices: string[] = [];
    const store = await backend.fresh({ TOKENSMITH_MASTER_KEY_FILE: keyFile });
    expect(existsSync(keyFile)).toBe(false);
    await store.close();
    const again = await (backend.name === 'sqlite'
      ? openStore({ db: store.location, env: { TOKENSMITH_MASTER_KEY_FILE: keyFile }, notice: (m) => notices.push(m) })
      : backend.reopen({ TOKENSMITH_MASTER_KEY_FILE: keyFile }));
    expect(existsSync(keyFile)).toBe(false);
    await writeSomething(again);
    expect(existsSync(keyFile)).toBe(true);
    if (backend.name === 'sqlite') expect(notices.join('\n')).toContain(`created the master key file ${keyFile}`);
    // TOKENSMITH_MASTER_KEY_FILE is the key of this store: nothing beside the database.
    if (backend.name === 'sqlite') expect(existsSync(`${store.location}.key`)).toBe(false);
    expect((await again.tokens.openSeed((await again.tokens.findBySerial('K1'))[0]!)).toString()).toBe(
      '12345678901234567890',
    );
    await again.close();
  });

  it('audit verify without the key checks the chain and says the anchor was not checked', async () => {
    const keyFile = join(tempDir(), 'master.key');
    const store = await backend.fresh({ TOKENSMITH_MASTER_KEY_FILE: keyFile });
    await writeSomething(store);
    expect(await store.audit.verify()).toEqual({ ok: true, rows: 2 });
    await store.close();
    renameSync(keyFile, `${keyFile}.away`);
    const keyless = await backend.reopen({ TOKENSMITH_MASTER_KEY_FILE: keyFile });
    const r = await keyless.audit.verify();
    expect(r).toMatchObject({ ok: true, rows: 2, anchorChecked: false });
    expect(r.note).toMatch(/anchor was not checked \(no master key is at hand\)/);
    // Checking created nothing.
    expect(existsSync(keyFile)).toBe(false);
    await keyless.close();
    const wrong = await backend.reopen({ TOKENSMITH_MASTER_KEY: 'ab'.repeat(32) });
    expect(await wrong.audit.verify()).toMatchObject({ ok: true, rows: 2, anchorChecked: false });
    await wrong.close();
  });
});

describe('a store that is not there', () => {
  test('sqlite: create: false refuses it (no-database) and creates nothing', async () => {
    const db = join(tempDir(), 'typo', 'tokensmith.db');
    await expect(openStore({ db, env: {}, create: false })).rejects.toMatchObject({ code: 'no-database', exitCode: 4 });
    expect(existsSync(db)).toBe(false);
    expect(existsSync(join(db, '..'))).toBe(false);
    const notices: string[] = [];
    const s = await openStore({ db, env: {}, notice: (m) => notices.push(m) });
    await s.close();
    expect(notices).toEqual([`created a new database at ${db}`]);
    expect(existsSync(`${db}.key`)).toBe(false);
  });
});

const pgSkip = skipPgReason();
describe.skipIf(pgSkip)('postgres: a database without tokensmith tables', () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startTestPostgres();
  }, 60_000);
  afterAll(() => server?.stop());
  test('create: false refuses it (no-database) and sets nothing up; a creating open says it set it up', async () => {
    const url = await server.createDatabase();
    await expect(openStore({ db: url, env: {}, create: false })).rejects.toMatchObject({ code: 'no-database' });
    const notices: string[] = [];
    const s = await openStore({ db: url, env: {}, create: false, notice: (m) => notices.push(m) }).catch(() => null);
    expect(s).toBeNull();
    const created = await openStore({ db: url, env: {}, notice: (m) => notices.push(m) });
    expect(notices).toEqual([`set up a new tokensmith database in ${created.location}`]);
    await created.close();
    const reading = await openStore({ db: url, env: {}, create: false });
    await reading.close();
  });
});
