import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync, chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, ExitCode } from '../../src/core/errors.js';
import { encodeBase32 } from '../../src/core/codecs.js';
import {
  keyCheckValue,
  loadMasterKey,
  openSeed,
  parseMasterKey,
  SealBrokenError,
  sealSeed,
  seedBinding,
  WrongMasterKeyError,
} from '../../src/store/vault.js';
import { baseToken, randomKeyHex, TempStores } from './helpers.js';
import { flipByte } from '../helpers/bytes.js';

const temp = new TempStores();
afterEach(() => temp.cleanup());

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Runs fn with umask 0, so file modes come from the code and not from the environment's umask. */
function withUmask0<T>(fn: () => T): T {
  const old = process.umask(0);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

describe('sealSeed / openSeed', () => {
  const key = randomBytes(32);
  const seed = randomBytes(20);
  const aad = seedBinding({ manufacturer: 'Token2', serial: '1234567' });

  it('uses the layout version(1) || nonce(12) || ciphertext || tag(16)', () => {
    const sealed = sealSeed(key, seed, aad);
    expect(sealed.length).toBe(1 + 12 + seed.length + 16);
    expect(sealed[0]).toBe(0x01);
    expect(sealed.includes(seed)).toBe(false);
  });

  it('uses a fresh nonce every time', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => sealSeed(key, seed, aad).subarray(1, 13).toString('hex')));
    expect(nonces.size).toBe(50);
  });

  it('opens with the right key and binding', () => {
    expect(openSeed(key, sealSeed(key, seed, aad), aad)).toEqual(seed);
  });

  it('refuses a wrong key, another binding, and any flipped bit', () => {
    const sealed = sealSeed(key, seed, aad);
    expect(openSeed(randomBytes(32), sealed, aad)).toBeNull();
    expect(openSeed(key, sealed, seedBinding({ manufacturer: 'Token2', serial: '1234568' }))).toBeNull();
    expect(openSeed(key, sealed, seedBinding({ manufacturer: 'Feitian', serial: '1234567' }))).toBeNull();
    for (let i = 0; i < sealed.length; i++) {
      const t = Buffer.from(sealed);
      flipByte(t, i, 0x01);
      expect(openSeed(key, t, aad), `byte ${i} flipped`).toBeNull();
    }
    expect(openSeed(key, sealed.subarray(0, 28), aad)).toBeNull();
    expect(openSeed(key, Buffer.alloc(0), aad)).toBeNull();
  });

  it('binds manufacturer and serial unambiguously (no field shifting)', () => {
    expect(seedBinding({ manufacturer: 'ab', serial: 'c' })).not.toBe(seedBinding({ manufacturer: 'a', serial: 'bc' }));
  });
});

describe('master key', () => {
  it('parses 64 hex digits and base64 (standard or URL-safe, with or without padding)', () => {
    const raw = randomBytes(32);
    expect(parseMasterKey(raw.toString('hex'), 'x')).toEqual(raw);
    expect(parseMasterKey(raw.toString('hex').toUpperCase() + '\n', 'x')).toEqual(raw);
    expect(parseMasterKey(raw.toString('base64'), 'x')).toEqual(raw);
    expect(parseMasterKey(raw.toString('base64').replace(/=$/, ''), 'x')).toEqual(raw);
    expect(parseMasterKey(raw.toString('base64url'), 'x')).toEqual(raw);
  });

  it.each([
    ['63 hex digits', 'a'.repeat(63)],
    ['65 hex digits', 'a'.repeat(65)],
    ['16 bytes base64', randomBytes(16).toString('base64')],
    ['48 bytes base64', randomBytes(48).toString('base64')],
    ['empty', ''],
    ['a passphrase', 'correct horse battery staple'],
  ])('refuses %s with exit 4, naming the source but not echoing the value', (_what, text) => {
    let e: unknown;
    try {
      parseMasterKey(text, 'TOKENSMITH_MASTER_KEY');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(DataError);
    expect((e as DataError).code).toBe('bad-master-key');
    expect((e as DataError).message).toContain('TOKENSMITH_MASTER_KEY');
    expect((e as DataError).message).toContain('32 bytes');
    if (text.length > 4) expect((e as DataError).message).not.toContain(text);
  });

  it('prefers TOKENSMITH_MASTER_KEY and then creates no key file', () => {
    const keyFile = join(temp.dir(), 't.db.key');
    const hex = randomKeyHex();
    const mk = loadMasterKey(keyFile, { TOKENSMITH_MASTER_KEY: hex });
    expect(mk.key.toString('hex')).toBe(hex);
    expect(mk.source).toBe('TOKENSMITH_MASTER_KEY');
    expect(existsSync(keyFile)).toBe(false);
  });

  it('creates the key file 0600 on first use and reads the same key afterwards', () => {
    const keyFile = join(temp.dir(), 't.db.key');
    const first = withUmask0(() => loadMasterKey(keyFile, {}));
    expect(first.source).toBe(keyFile);
    expect(modeOf(keyFile)).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const second = loadMasterKey(keyFile, {});
    expect(second.key).toEqual(first.key);
  });

  it('never overwrites an existing key file', () => {
    const keyFile = join(temp.dir(), 't.db.key');
    const hex = randomKeyHex();
    writeFileSync(keyFile, hex, { mode: 0o600 });
    expect(loadMasterKey(keyFile, {}).key.toString('hex')).toBe(hex);
    expect(readFileSync(keyFile, 'utf8')).toBe(hex);
  });

  it('refuses a damaged key file, naming it', () => {
    const keyFile = join(temp.dir(), 't.db.key');
    writeFileSync(keyFile, 'not a key', { mode: 0o600 });
    expect(() => loadMasterKey(keyFile, {})).toThrow(
      new RegExp(`master key in ${keyFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} must be 32 bytes`),
    );
  });

  it('refuses a key file that group or others can read (exit 5), and reads it once it is 0600', () => {
    const keyFile = join(temp.dir(), 'open.db.key');
    const hex = randomBytes(32).toString('hex');
    writeFileSync(keyFile, hex + '\n', { mode: 0o600 });
    chmodSync(keyFile, 0o640);
    expect(() => loadMasterKey(keyFile, {})).toThrow(expect.objectContaining({ code: 'key-file-mode', exitCode: 5 }));
    chmodSync(keyFile, 0o600);
    expect(loadMasterKey(keyFile, {}).key.toString('hex')).toBe(hex);
  });

  it('has a key check value that differs per key and does not contain the key', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    expect(keyCheckValue(k1)).toMatch(/^[0-9a-f]{32}$/);
    expect(keyCheckValue(k1)).toBe(keyCheckValue(Buffer.from(k1)));
    expect(keyCheckValue(k1)).not.toBe(keyCheckValue(k2));
    expect(k1.toString('hex')).not.toContain(keyCheckValue(k1));
  });
});

describe('sealed seeds in the store', () => {
  async function storeWithTokens(env = { TOKENSMITH_MASTER_KEY: randomKeyHex() }) {
    const dir = temp.dir();
    const path = join(dir, 't.db');
    const store = temp.open(path, env);
    const seeds = [randomBytes(20), randomBytes(20)];
    const a = await store.tokens.insert({ ...baseToken, serial: 'A-1', manufacturer: 'Acme', seed: seeds[0] });
    const b = await store.tokens.insert({ ...baseToken, serial: 'B-2', manufacturer: 'Acme', seed: seeds[1] });
    return { dir, path, env, store, seeds, a, b };
  }

  it('round-trips a seed and never returns it on the record', async () => {
    const { store, seeds, a } = await storeWithTokens();
    expect(a.hasSeed).toBe(true);
    expect(JSON.stringify(a)).not.toContain(seeds[0]!.toString('hex'));
    expect(await store.tokens.openSeed(a)).toEqual(seeds[0]);
  });

  it('re-seals on update and keeps the binding', async () => {
    const { store, a } = await storeWithTokens();
    const fresh = randomBytes(32);
    await store.tokens.update(a.id, { seed: fresh });
    expect(await store.tokens.openSeed(a)).toEqual(fresh);
    const cleared = await store.tokens.update(a.id, { seed: null });
    expect(cleared.hasSeed).toBe(false);
    expect(await rejection(store.tokens.openSeed(cleared))).toMatchObject({ code: 'no-seed' });
  });

  it('tampered ciphertext: SealBrokenError, exit 4, naming the token', async () => {
    const { store, a } = await storeWithTokens();
    const row = store.db.prepare('SELECT sealed_seed FROM tokens WHERE id = ?').get(a.id) as { sealed_seed: Buffer };
    for (const i of [0, 5, 14, row.sealed_seed.length - 1]) {
      const t = Buffer.from(row.sealed_seed);
      flipByte(t, i, 0x80);
      store.db.prepare('UPDATE tokens SET sealed_seed = ? WHERE id = ?').run(t, a.id);
      const e = await rejection(store.tokens.openSeed(a));
      expect(e, `byte ${i}`).toBeInstanceOf(SealBrokenError);
      expect((e as SealBrokenError).exitCode).toBe(ExitCode.data);
      expect((e as SealBrokenError).code).toBe('seal-broken');
      expect(e.message).toContain('token A-1');
    }
  });

  it('sealed seeds swapped between two rows: both refuse with SealBrokenError', async () => {
    const { store, a, b } = await storeWithTokens();
    const sealedOf = (id: number) =>
      (store.db.prepare('SELECT sealed_seed FROM tokens WHERE id = ?').get(id) as { sealed_seed: Buffer }).sealed_seed;
    const [sa, sb] = [sealedOf(a.id), sealedOf(b.id)];
    expect(sa.equals(sb)).toBe(false);
    store.db.prepare('UPDATE tokens SET sealed_seed = ? WHERE id = ?').run(sb, a.id);
    store.db.prepare('UPDATE tokens SET sealed_seed = ? WHERE id = ?').run(sa, b.id);
    expect(sealedOf(a.id).equals(sb)).toBe(true);
    for (const t of [a, b]) {
      const e = await rejection(store.tokens.openSeed(t));
      expect(e).toBeInstanceOf(SealBrokenError);
      expect(e.message).toContain(`token ${t.serial}`);
    }
  });

  it('a sealed seed copied to the same serial of another manufacturer does not open', async () => {
    const { store, a } = await storeWithTokens();
    const twin = await store.tokens.insert({
      ...baseToken,
      serial: 'A-1',
      manufacturer: 'Other',
      seed: randomBytes(20),
    });
    store.db
      .prepare('UPDATE tokens SET sealed_seed = (SELECT sealed_seed FROM tokens WHERE id = ?) WHERE id = ?')
      .run(a.id, twin.id);
    expect(await rejection(store.tokens.openSeed(twin))).toBeInstanceOf(SealBrokenError);
  });

  it('renaming a row (serial edited) breaks its seal', async () => {
    const { store, a } = await storeWithTokens();
    store.db.prepare("UPDATE tokens SET serial = 'A-9' WHERE id = ?").run(a.id);
    const moved = (await store.tokens.get(a.id))!;
    expect(await rejection(store.tokens.openSeed(moved))).toBeInstanceOf(SealBrokenError);
  });

  it('wrong master key (environment): WrongMasterKeyError, exit 4, "the master key is wrong", on read and on write', async () => {
    const { path, store, a } = await storeWithTokens();
    await store.close();
    const other = temp.open(path, { TOKENSMITH_MASTER_KEY: randomKeyHex() });
    const e = await rejection(other.tokens.openSeed(a));
    expect(e).toBeInstanceOf(WrongMasterKeyError);
    expect((e as WrongMasterKeyError).exitCode).toBe(4);
    expect((e as WrongMasterKeyError).code).toBe('wrong-master-key');
    expect(e.message).toContain('the master key is wrong');
    expect(e.message).toContain('TOKENSMITH_MASTER_KEY');
    const w = await rejection(other.tokens.insert({ ...baseToken, serial: 'C-3', seed: randomBytes(20) }));
    expect(w).toBeInstanceOf(WrongMasterKeyError);
    // Nothing sealed under the wrong key landed.
    expect(await other.tokens.findOne('', 'C-3')).toBeNull();
  });

  it('wrong master key (key file): the error names the key file', async () => {
    const dir = temp.dir();
    const path = join(dir, 't.db');
    const store = temp.open(path, {});
    const t = await store.tokens.insert({ ...baseToken, serial: 'K-1', seed: randomBytes(20) });
    await store.close();
    writeFileSync(`${path}.key`, randomKeyHex() + '\n');
    const reopened = temp.open(path, {});
    const e = await rejection(reopened.tokens.openSeed(t));
    expect(e).toBeInstanceOf(WrongMasterKeyError);
    expect(e.message).toContain(`${path}.key`);
  });

  // Bug found by this test: without the key, a fresh random key file was written beside a database
  // whose seeds were sealed under another key, and the error then blamed that new file.
  it('no key anywhere for a database that has seeds: exit 4 "missing", and no new key file is written', async () => {
    const path = join(temp.dir(), 't.db');
    const store = temp.open(path, { TOKENSMITH_MASTER_KEY: randomKeyHex() });
    const t = await store.tokens.insert({ ...baseToken, serial: 'NK-1', seed: randomBytes(20) });
    await store.close();
    const keyless = temp.open(path, {});
    const e = await rejection(keyless.tokens.openSeed(t));
    expect(e).toBeInstanceOf(DataError);
    expect((e as DataError).exitCode).toBe(4);
    expect((e as DataError).code).toBe('missing-master-key');
    expect(e.message).toContain('TOKENSMITH_MASTER_KEY is not set');
    expect(e.message).toContain(`${path}.key`);
    expect(existsSync(`${path}.key`)).toBe(false);
    await expect(keyless.tokens.insert({ ...baseToken, serial: 'NK-2', seed: randomBytes(20) })).rejects.toMatchObject({
      code: 'missing-master-key',
    });
    expect(existsSync(`${path}.key`)).toBe(false);
  });

  it('the right key from the key file opens seeds after a reopen', async () => {
    const path = join(temp.dir(), 't.db');
    const store = temp.open(path, {});
    const seed = randomBytes(20);
    const t = await store.tokens.insert({ ...baseToken, serial: 'K-2', seed });
    await store.close();
    expect(await temp.open(path, {}).tokens.openSeed(t)).toEqual(seed);
  });

  it('stores a key check value in meta, not the key', async () => {
    const env = { TOKENSMITH_MASTER_KEY: randomKeyHex() };
    const { store } = await storeWithTokens(env);
    const check = await store.meta.get('key_check');
    expect(check).toBe(keyCheckValue(Buffer.from(env.TOKENSMITH_MASTER_KEY, 'hex')));
    const allMeta = JSON.stringify(store.db.prepare('SELECT * FROM meta').all());
    expect(allMeta).not.toContain(env.TOKENSMITH_MASTER_KEY);
  });
});

describe('files on disk', () => {
  it('database, -wal, -shm and key file are 0600 even with umask 0', async () => {
    const path = join(temp.dir(), 't.db');
    const store = withUmask0(() => temp.open(path, {}));
    await withUmask0(() => store.tokens.insert({ ...baseToken, serial: 'M-1', seed: randomBytes(20) }));
    for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}.key`]) {
      expect(existsSync(f), f).toBe(true);
      expect(modeOf(f).toString(8), f).toBe('600');
    }
  });

  it('tightens an existing database file to 0600 when opening it', () => {
    const path = join(temp.dir(), 't.db');
    closeSync(openSync(path, 'w'));
    chmodSync(path, 0o644);
    temp.open(path);
    expect(modeOf(path).toString(8)).toBe('600');
  });

  describe.each([20, 21, 32, 64])('a %i-byte seed', (n) => {
    it('appears in neither the database nor its WAL as raw bytes, hex, base32 or base64', async () => {
      const seed = randomBytes(n);
      const path = join(temp.dir(), 't.db');
      const store = temp.open(path);
      const serial = `SEEDSCAN-${n}`;
      await store.transaction(async (tx) => {
        await tx.tokens.insert({ ...baseToken, serial, seed });
        await tx.audit.append({ action: 'token.add', subject: `token:${serial}` });
      });
      const needles: [string, Buffer][] = [
        ['raw', seed],
        ['hex', Buffer.from(seed.toString('hex'))],
        ['HEX', Buffer.from(seed.toString('hex').toUpperCase())],
        ['base32 padded', Buffer.from(encodeBase32(seed, { padding: true }))],
        ['base32 unpadded', Buffer.from(encodeBase32(seed))],
        ['base32 lower', Buffer.from(encodeBase32(seed).toLowerCase())],
        ['base64', Buffer.from(seed.toString('base64'))],
        ['base64 unpadded', Buffer.from(seed.toString('base64').replace(/=+$/, ''))],
        ['base64url', Buffer.from(seed.toString('base64url'))],
      ];
      const scan = (file: string) => {
        const bytes = readFileSync(file);
        // Control: the scan does find what is there in the clear.
        expect(bytes.includes(Buffer.from(serial)), `${file} should hold the serial`).toBe(true);
        for (const [what, needle] of needles)
          expect(bytes.includes(needle), `${what} of the seed in ${file}`).toBe(false);
      };
      // While the store is open the new rows live in the WAL.
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
      scan(`${path}-wal`);
      await store.close();
      scan(path);
    });
  });
});
