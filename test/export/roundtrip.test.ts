/** Our exports read back by our importer (src/import): PSKC lossless for every field, oath-csv and entra-csv unchanged. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { exportTokens } from '../../src/export/service.js';
import { importSeedFile } from '../../src/import/service.js';
import type { TokenRecord } from '../../src/store/types.js';
import { addTokens, assignAllTo, EVERY_KIND, newToken, tempStore, type TestStore } from './helpers.js';

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

async function snapshot(ts: TestStore, fields: (keyof TokenRecord)[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const t of await ts.store.tokens.list()) {
    const row: Record<string, unknown> = Object.fromEntries(fields.map((f) => [f, t[f]]));
    row.seed = (await ts.store.tokens.openSeed(t)).toString('hex');
    out.push(row);
  }
  return out.sort((a, b) => String(a.serial).localeCompare(String(b.serial)));
}

const PSKC_FIELDS: (keyof TokenRecord)[] = [
  'serial',
  'manufacturer',
  'model',
  'type',
  'algorithm',
  'digits',
  'period',
  'counter',
  'driftSteps',
];

describe('round trip through our importer', () => {
  it('encrypted PSKC of every kind re-imports with identical tokens', async () => {
    await addTokens(from.store, EVERY_KIND);
    const file = join(from.dir, 'all.xml');
    await exportTokens(from.store, { format: 'pskc', output: file, password: 'round trip' });
    const r = await importSeedFile(to.store, { file, password: 'round trip' });
    expect(r).toMatchObject({ imported: EVERY_KIND.length, failed: 0 });
    const fields = PSKC_FIELDS;
    const a = await snapshot(from, fields);
    const b = await snapshot(to, fields);
    // HOTP has no time step in PSKC and TOTP no counter: compare what each type carries.
    const carried = (rows: Record<string, unknown>[]) =>
      rows.map((x) =>
        x.type === 'hotp' ? { ...x, period: undefined, driftSteps: undefined } : { ...x, counter: undefined },
      );
    expect(carried(b)).toEqual(carried(a));
  });

  it('PSKC under a pre-shared aes256 key re-imports with identical seeds', async () => {
    await addTokens(from.store, EVERY_KIND);
    const file = join(from.dir, 'k.xml');
    const key = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    await exportTokens(from.store, { format: 'pskc', output: file, key });
    await importSeedFile(to.store, { file, key: Buffer.from(key, 'hex') });
    expect((await snapshot(to, ['serial'])).map((x) => x.seed)).toEqual(
      (await snapshot(from, ['serial'])).map((x) => x.seed),
    );
  });

  it('oath-csv re-imports unchanged (serial, seed, type, algorithm, digits, period or counter)', async () => {
    await addTokens(from.store, EVERY_KIND);
    const file = join(from.dir, 'o.csv');
    const r = await exportTokens(from.store, { format: 'oath-csv', output: file, plaintext: true });
    expect(r.exported).toBe(EVERY_KIND.length);
    await importSeedFile(to.store, { file, format: 'oath-csv' });
    const fields: (keyof TokenRecord)[] = ['serial', 'type', 'algorithm', 'digits'];
    const withStep = async (ts: TestStore) =>
      (await snapshot(ts, [...fields, 'period', 'counter'])).map((x) =>
        x.type === 'hotp' ? { ...x, period: undefined } : { ...x, counter: undefined },
      );
    expect(await withStep(to)).toEqual(await withStep(from));
  });

  it('entra-csv re-imports unchanged (serial, seed, period, manufacturer, model)', async () => {
    await assignAllTo(
      from.store,
      await addTokens(from.store, [...EVERY_KIND, newToken('E-60', { period: 60, model: 'TST-60' })]),
    );
    const file = join(from.dir, 'e.csv');
    const r = await exportTokens(from.store, { format: 'entra-csv', output: file, plaintext: true });
    await importSeedFile(to.store, { file, format: 'entra-csv' });
    const fields: (keyof TokenRecord)[] = ['serial', 'manufacturer', 'model', 'type', 'algorithm', 'digits', 'period'];
    const exported = (await snapshot(from, fields)).filter((x) => !r.skipped.some((s) => s.serial === x.serial));
    expect(exported.map((x) => x.serial)).toEqual(['E-60', 'K-SHA1-6-30']);
    expect(await snapshot(to, fields)).toEqual(exported);
  });
});
