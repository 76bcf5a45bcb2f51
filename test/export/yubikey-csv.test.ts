/** The YubiKey personalization log export, read back by our YubiKey CSV import: serial, slot, seed and digits survive. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportTokens } from '../../src/export/service.js';
import { publicIdOf } from '../../src/export/formats/yubikey-csv.js';
import { importSeedFile } from '../../src/import/service.js';
import { modhexToNumber } from '../../src/import/formats/yubikey-csv.js';
import { tempStore, type TestStore } from './helpers.js';

let from: TestStore;
let to: TestStore;
beforeEach(async () => {
  from = await tempStore();
  to = await tempStore();
});
afterEach(async () => {
  await from.close();
  await to.close();
});

const hotp = (serial: string, digits: number, extra: Record<string, unknown> = {}) => ({
  serial,
  manufacturer: 'Yubico',
  model: 'yubikey-otp',
  kind: 'programmable' as const,
  type: 'hotp' as const,
  algorithm: 'sha1' as const,
  digits,
  period: 30,
  counter: 0,
  state: 'programmed' as const,
  seed: randomBytes(20),
  ...extra,
});

describe('export --format yubikey-csv', () => {
  it('public ids read back as the same serial number', () => {
    for (const n of [1n, 7001234n, 12345678n, 4294967295n, 98765432101n]) expect(modhexToNumber(publicIdOf(n))).toBe(n);
  });

  it('round-trips OATH-HOTP slots through the import (serial, seed, digits); other tokens are left out, each said why', async () => {
    const a = await from.store.tokens.insert(hotp('UBOM12345678_1', 6));
    const b = await from.store.tokens.insert(hotp('UBOM07001234_2', 8));
    await from.store.tokens.insert(hotp('UBOM00000042_1', 6, { counter: 32 }));
    await from.store.tokens.insert({ ...hotp('TOTP-1', 6), type: 'totp' });
    const file = join(from.dir, 'yk.csv');
    const r = await exportTokens(from.store, { format: 'yubikey-csv', output: file, plaintext: true });
    expect(r.exported).toBe(2);
    expect(r.skipped.map((s) => s.serial).sort()).toEqual(['TOTP-1', 'UBOM00000042_1']);
    expect(r.skipped.find((s) => s.serial === 'UBOM00000042_1')!.reason).toMatch(/counter/);
    expect(readFileSync(file, 'utf8')).toMatch(/^LOGGING START,/);
    const imp = await importSeedFile(to.store, { file });
    expect(imp).toMatchObject({ imported: 2, failed: 0 });
    for (const t of [a, b]) {
      const back = (await to.store.tokens.findOne('Yubico', t.serial))!;
      expect(back).toMatchObject({ type: 'hotp', algorithm: 'sha1', digits: t.digits, counter: 0 });
      expect(await to.store.tokens.openSeed(back)).toEqual(await from.store.tokens.openSeed(t));
    }
  });

  it('is refused without --plaintext: the log holds the secrets in the clear', async () => {
    await from.store.tokens.insert(hotp('UBOM12345678_1', 6));
    await expect(exportTokens(from.store, { format: 'yubikey-csv', output: join(from.dir, 'x.csv') })).rejects.toThrow(
      /--plaintext/,
    );
  });
});
